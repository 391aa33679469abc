package cluster

import (
	"maps"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kindlab/kindlab/internal/kube"
)

// On several nodes an add-on's pod on a worker cannot reach the API server on its
// own node's address: pods on the host's network go to the control-plane node by
// name, others to the kubernetes Service.
func TestAPIOnControlPlane(t *testing.T) {
	t.Parallel()
	objs, err := kube.Objects([]byte(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: speaker, namespace: metallb-system}
spec:
  selector: {matchLabels: {app: speaker}}
  template:
    metadata: {labels: {app: speaker}}
    spec:
      hostNetwork: true
      containers:
      - name: speaker
        image: speaker
        env:
        - {name: METALLB_NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
        - {name: KUBERNETES_SERVICE_HOST, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
        - {name: KUBERNETES_SERVICE_PORT, value: "6443"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: metallb-system}
spec:
  selector: {matchLabels: {app: controller}}
  template:
    metadata: {labels: {app: controller}}
    spec:
      containers:
      - name: controller
        image: controller
        env:
        - {name: KUBERNETES_SERVICE_HOST, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
        - {name: KUBERNETES_SERVICE_PORT, value: "6443"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := apiOnControlPlane(objs, "kindlab-control-plane"); err != nil {
		t.Fatal(err)
	}
	env := func(i int) map[string]any {
		cs := objs[i].Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
		out := map[string]any{}
		for _, e := range cs[0].(map[string]any)["env"].([]any) {
			em := e.(map[string]any)
			if v, ok := em["value"]; ok {
				out[em["name"].(string)] = v
			} else {
				out[em["name"].(string)] = em["valueFrom"]
			}
		}
		return out
	}
	speaker := env(0)
	if speaker["KUBERNETES_SERVICE_HOST"] != "kindlab-control-plane" || speaker["KUBERNETES_SERVICE_PORT"] != "6443" || speaker["METALLB_NODE_NAME"] == nil {
		t.Errorf("speaker's env = %v", speaker)
	}
	cs := objs[1].Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
	if e, ok := cs[0].(map[string]any)["env"]; ok {
		t.Errorf("controller (pod network) keeps %v; want the kubernetes Service", e)
	}
}

// On several nodes kindlab's CoreDNS stays on the control plane, whose address it
// reaches the API server on; its other node selectors are kept.
func TestOnControlPlane(t *testing.T) {
	t.Parallel()
	objs, err := kube.Objects([]byte(`apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec: {ports: [{port: 53}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      containers: [{name: coredns, image: coredns}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := onControlPlane(objs, "Deployment"); err != nil {
		t.Fatal(err)
	}
	sel, _, _ := unstructured.NestedStringMap(objs[1].Object, "spec", "template", "spec", "nodeSelector")
	if want := map[string]string{"kubernetes.io/os": "linux", ControlPlaneRoleLabel: ""}; !maps.Equal(sel, want) {
		t.Errorf("nodeSelector = %v, want %v", sel, want)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(objs[0].Object, "spec", "template"); found {
		t.Errorf("the Service was changed: %v", objs[0].Object)
	}
}

// A stopped node has no address; the line of the last one must still be read
// (the runner trims the output).
func TestParseNodeContainers(t *testing.T) {
	t.Parallel()
	out := "/k-worker\trunning\t2026-11-30T18:00:00.5Z\tworker\t172.18.0.3 \t.\n/k-control-plane\texited\t2026-11-30T17:00:00Z\tcontrol-plane\t\t."
	ns, err := parseNodeContainers("k", out)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 2 || ns[1].name != "k-control-plane" || ns[1].state != "exited" || ns[1].role != "control-plane" || ns[0].address != "172.18.0.3" {
		t.Errorf("parsed %+v", ns)
	}
	if _, err := parseNodeContainers("k", "/k-worker\trunning"); err == nil {
		t.Error("a line of another format must be an error, not a node left out")
	}
}
