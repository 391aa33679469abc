package kube

import (
	"strings"
	"testing"
)

func TestObjects(t *testing.T) {
	t.Parallel()
	objs, err := Objects([]byte(`# a comment before the first document
---
apiVersion: v1
kind: Namespace
metadata:
  name: a
---
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: a}
data: {k: v}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].GetKind() != "Namespace" || objs[1].GetName() != "b" || objs[1].GetNamespace() != "a" {
		t.Fatalf("Objects = %v", objs)
	}
	for manifest, want := range map[string]string{
		"metadata: {name: x}\n":                          "document 1: no kind or apiVersion",
		"apiVersion: v1\nkind: A\n---\nkind: [\n":        "document 2",
		"apiVersion: v1\nkind: A\n---\napiVersion: v1\n": "document 2: no kind",
	} {
		if _, err := Objects([]byte(manifest)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Objects(%q) = %v, want an error with %q", manifest, err, want)
		}
	}
}
