package images

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"sigs.k8s.io/yaml"
)

func TestContainerdName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"nginx:1.10":                           "docker.io/library/nginx:1.10",
		"alicek106/ubuntu:curl":                "docker.io/alicek106/ubuntu:curl",
		"registry.k8s.io/pause:3.10":           "registry.k8s.io/pause:3.10",
		"registry.k8s.io/coredns/coredns:v1.1": "registry.k8s.io/coredns/coredns:v1.1",
		"localhost/x:y":                        "localhost/x:y",
		"localhost:5000/x:y":                   "localhost:5000/x:y",
	} {
		if got := ContainerdName(in); got != want {
			t.Errorf("ContainerdName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMirrorFromSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	deb822 := filepath.Join(dir, "debian.sources")
	os.WriteFile(deb822, []byte("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\nURIs: http://mirror.example/debian-security\n"), 0o644)
	legacy := filepath.Join(dir, "sources.list")
	os.WriteFile(legacy, []byte("# comment\ndeb http://old.example/debian bookworm main\n"), 0o644)

	if got := mirrorFromSources(deb822); got != "http://mirror.example/debian" {
		t.Errorf("deb822: %q", got)
	}
	if got := mirrorFromSources(filepath.Join(dir, "missing"), legacy); got != "http://old.example/debian" {
		t.Errorf("legacy: %q", got)
	}
	if got := mirrorFromSources(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("none: %q", got)
	}
}

func TestStepKeyChangesWithInputs(t *testing.T) {
	t.Parallel()
	b := New(Options{CacheDir: t.TempDir()})
	in := "a"
	s := step{name: "x", inputs: func() []string { return []string{in} }}
	k1 := b.key(s)
	if k1 != b.key(s) {
		t.Fatal("key is not stable")
	}
	in = "b"
	if b.key(s) == k1 {
		t.Error("key did not change with its input")
	}
	b2 := New(Options{CacheDir: t.TempDir(), KubernetesVersion: "v1.36.0"})
	in = "a"
	if b2.key(s) == k1 {
		t.Error("key did not change with the Kubernetes version")
	}
}

func TestVersionParts(t *testing.T) {
	t.Parallel()
	if ma, mi := versionParts("v1.37.2"); ma != "1" || mi != "37" {
		t.Errorf("versionParts = %s, %s", ma, mi)
	}
}

func TestEmbeddedProgramsAndFiles(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"programs/pause/main.go", "programs/echohostname/main.go", "programs/flannelcni/main.go",
		"files/default-cni.yaml", "files/base-setup.sh", "files/kindlab-egress-guard.sh", "files/nginx-index.html"} {
		if _, err := embedded.ReadFile(p); err != nil {
			t.Errorf("embedded %s: %v", p, err)
		}
	}
	cni, _ := embedded.ReadFile("files/default-cni.yaml")
	// kind only templates the manifest when it carries this phrase.
	if !strings.Contains(string(cni), "would you kindly template this file") || !strings.Contains(string(cni), "{{ .PodSubnet }}") {
		t.Error("default-cni.yaml must be a kind template with {{ .PodSubnet }}")
	}
	// kind fills in its default CNI manifest with PodSubnet alone (a node image of
	// kindlab's with bare kind): any other field would fail its create.
	tmpl, err := template.New("cni").Parse(string(cni))
	if err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Execute(io.Discard, &struct{ PodSubnet string }{"10.244.0.0/16"}); err != nil {
		t.Errorf("kind cannot fill in default-cni.yaml: %v", err)
	}
	if m := flannelManifest(string(cni)); strings.Contains(m, "@") || !strings.Contains(m, "image: "+ContainerdName(FlannelImage)) {
		t.Errorf("flannel's image is not filled in:\n%s", m)
	}
}

func TestTrimFlannelBackends(t *testing.T) {
	t.Parallel()
	main := "import (\n\t\"fmt\"\n\t_ \"github.com/flannel-io/flannel/pkg/backend/alloc\"\n\t_ \"github.com/flannel-io/flannel/pkg/backend/hostgw\"\n" +
		"\t_ \"github.com/flannel-io/flannel/pkg/backend/tencentvpc\"\n\t_ \"github.com/flannel-io/flannel/pkg/backend/vxlan\"\n)\n"
	got, err := trimFlannelBackends(main)
	if err != nil {
		t.Fatal(err)
	}
	want := "import (\n\t\"fmt\"\n\t_ \"github.com/flannel-io/flannel/pkg/backend/hostgw\"\n\t_ \"github.com/flannel-io/flannel/pkg/backend/vxlan\"\n)\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := trimFlannelBackends(strings.ReplaceAll(main, "vxlan", "geneve")); err == nil {
		t.Error("a main without the vxlan backend must be refused")
	}
}

func TestCNIConfigDelegatesToFlannelCNI(t *testing.T) {
	t.Parallel()
	var conf struct {
		Plugins []struct {
			Type string `json:"type"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal([]byte(cniConfig()), &conf); err != nil {
		t.Fatal(err)
	}
	if len(conf.Plugins) != 2 || conf.Plugins[0].Type != "flannelcni" || conf.Plugins[1].Type != "portmap" {
		t.Errorf("plugins = %+v", conf.Plugins)
	}
}

func TestQuickReadinessTouchesOnlyReadinessProbes(t *testing.T) {
	t.Parallel()
	in := `        livenessProbe:
          failureThreshold: 3
          initialDelaySeconds: 10
          periodSeconds: 10
        readinessProbe:
          failureThreshold: 3
          httpGet:
            path: /metrics
            port: monitoring
          initialDelaySeconds: 10
          periodSeconds: 10
          successThreshold: 1
`
	want := strings.Replace(in, "monitoring\n          initialDelaySeconds: 10\n          periodSeconds: 10", "monitoring\n          initialDelaySeconds: 0\n          periodSeconds: 1", 1)
	if got := string(quickReadiness([]byte(in))); got != want {
		t.Errorf("quickReadiness:\n%s\nwant:\n%s", got, want)
	}
}

func TestAPIFromHostIP(t *testing.T) {
	in := "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - args:\n        env:\n        - name: METALLB_ML_SECRET_NAME\n          value: memberlist\n        image: quay.io/metallb/controller:v0.15.3\n"
	got := string(apiFromHostIP([]byte(in)))
	want := "        env:\n        - name: KUBERNETES_SERVICE_HOST\n          valueFrom:\n            fieldRef:\n              fieldPath: status.hostIP\n        - name: KUBERNETES_SERVICE_PORT\n          value: \"6443\"\n        - name: METALLB_ML_SECRET_NAME\n"
	if !strings.Contains(got, want) {
		t.Errorf("apiFromHostIP:\n%s", got)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(got), &doc); err != nil {
		t.Errorf("not YAML any more: %v", err)
	}
	// kind's storage manifest indents the items under "env:".
	in = "      containers:\n        - name: p\n          env:\n            - name: POD_NAMESPACE\n              valueFrom:\n                fieldRef:\n                  fieldPath: metadata.namespace\n"
	got = string(apiFromHostIP([]byte(in)))
	var indented struct {
		Containers []struct {
			Env []struct{ Name, Value string }
		}
	}
	if err := yaml.Unmarshal([]byte(got), &indented); err != nil {
		t.Fatalf("not YAML any more: %v\n%s", err, got)
	}
	var names []string
	for _, e := range indented.Containers[0].Env {
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "KUBERNETES_SERVICE_HOST,KUBERNETES_SERVICE_PORT,POD_NAMESPACE" {
		t.Errorf("env = %v\n%s", names, got)
	}
}

// Offline, a node asks only the local registry (a name it lacks fails at once);
// with upstream, docker.io names it lacks come from Docker Hub.
func TestMirrorHostsToml(t *testing.T) {
	t.Parallel()
	local := `server = "http://kindlab-registry:5000"`
	for _, tc := range []struct {
		host     string
		upstream bool
		want     []string
		not      []string
	}{
		{"docker.io", false, []string{local, `[host."http://kindlab-registry:5000"]`}, []string{"registry-1.docker.io"}},
		{"docker.io", true, []string{`server = "https://registry-1.docker.io"`, `[host."http://kindlab-registry:5000"]`, `capabilities = ["pull", "resolve"]`}, nil},
		{"localhost:5001", true, []string{local, `[host."http://kindlab-registry:5000"]`}, []string{"registry-1.docker.io"}},
	} {
		got := MirrorHostsToml(tc.host, tc.upstream)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s upstream=%v: no %q in\n%s", tc.host, tc.upstream, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s upstream=%v: %q in\n%s", tc.host, tc.upstream, n, got)
			}
		}
	}
}

// TestCoreDNSHasEveryPluginItsCorefileUses: kindlab's CoreDNS is built with the
// plugins its Corefile names, and no plugin a Corefile line needs is left out.
func TestCoreDNSHasEveryPluginItsCorefileUses(t *testing.T) {
	t.Parallel()
	data, err := embedded.ReadFile("files/coredns.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var corefile string
	for _, doc := range strings.Split(string(data), "\n---") {
		var cm struct {
			Kind string
			Data map[string]string
		}
		if err := yaml.Unmarshal([]byte(doc), &cm); err == nil && cm.Kind == "ConfigMap" {
			corefile = cm.Data["Corefile"]
		}
	}
	if corefile == "" {
		t.Fatal("no Corefile in coredns.yaml")
	}
	depth := 0
	for _, line := range strings.Split(corefile, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if depth == 1 && f[0] != "}" {
			if _, ok := corednsPlugins[f[0]]; !ok {
				t.Errorf("the Corefile uses plugin %q, which kindlab's CoreDNS is not built with", f[0])
			}
		}
		depth += strings.Count(line, "{") - strings.Count(line, "}")
	}
}
