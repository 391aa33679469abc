package lab

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

func TestShippedLabsLoad(t *testing.T) {
	t.Parallel()
	set, err := Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatalf("shipped labs: %v", err)
	}
	want := []string{"components", "pod", "sidecar", "replicaset", "labels", "match-expressions", "deployment",
		"service-clusterip", "service-nodeport", "service-loadbalancer", "service-externalname"}
	if len(set.Labs) != len(want) {
		t.Fatalf("got %d labs, want %d", len(set.Labs), len(want))
	}
	for i, id := range want {
		if set.Labs[i].ID != id {
			t.Errorf("lab %d is %q, want %q (labs are ordered by order:)", i, set.Labs[i].ID, id)
		}
	}
}

// The book's files name images by tag with no pull policy (nginx:latest is pulled
// every time): every image a lab's manifests, commands and actions name must be one
// the cluster's registry serves, or the learner's pod would wait for Docker Hub.
func TestShippedLabsUseOnlyLabImages(t *testing.T) {
	t.Parallel()
	set, err := Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatalf("shipped labs: %v", err)
	}
	available := map[string]bool{}
	for _, img := range images.LabImages {
		available[img] = true
	}
	imageRE := regexp.MustCompile(`(?:image: *|--image=|=)([a-z0-9./-]+:[a-z0-9.-]+)`)
	for _, l := range set.Labs {
		var named []string
		for _, f := range l.Files {
			data, err := set.Manifest(l.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range imageRE.FindAllStringSubmatch(string(data), -1) {
				named = append(named, f+": "+m[1])
			}
		}
		for _, st := range l.Steps {
			for _, cmd := range st.Solution.Commands {
				for _, m := range imageRE.FindAllStringSubmatch(cmd, -1) {
					named = append(named, st.ID+": "+m[1])
				}
			}
			for _, a := range append(append([]Action{}, st.Setup...), st.Solution.Actions...) {
				if a.SetImage != nil {
					named = append(named, st.ID+": "+a.SetImage.Image)
				}
			}
		}
		if len(named) == 0 && len(l.Files) > 0 && l.ID != "service-externalname" {
			t.Errorf("%s: found no image in its files; the pattern is wrong", l.ID)
		}
		for _, n := range named {
			if _, img, _ := strings.Cut(n, ": "); !available[img] {
				t.Errorf("%s: %s is not among the lab images %v", l.ID, n, images.LabImages)
			}
		}
	}
}

const goodLab = `apiVersion: kindlab.dev/v1alpha1
kind: Lab
id: demo
order: 1
title: {ko: 데모, en: Demo}
goal: {ko: 목표, en: Goal}
files: [pod.yaml]
cleanup:
  - {kind: Pod, name: p}
steps:
  - id: one
    title: {ko: 하나, en: One}
    instructions: {ko: 적용하세요, en: Apply it}
    checks:
      - id: exists
        title: {ko: 있음, en: exists}
        exists: {kind: Pod, name: p}
    hints:
      - {ko: 힌트, en: hint}
    solution:
      commands: [kubectl apply -f pod.yaml]
      actions:
        - apply: pod.yaml
`

func TestParseGood(t *testing.T) {
	t.Parallel()
	l, err := Parse("labs/demo/lab.yaml", []byte(goodLab))
	if err != nil {
		t.Fatal(err)
	}
	if l.Steps[0].Checks[0].KindName() != "exists" || l.Title.In("ko") != "데모" || l.Title.In("en") != "Demo" {
		t.Errorf("decoded %+v", l)
	}
}

func TestParseReportsEveryProblemWithItsLine(t *testing.T) {
	t.Parallel()
	bad := strings.NewReplacer(
		"order: 1", "order: 1\ncolour: blue", // unknown field, line 5
		"exists: {kind: Pod, name: p}", "exists: {kind: Pod, name: p}\n        absent: {kind: Widget, name: p}", // two kinds
		"- apply: pod.yaml", "- apply: other.yaml", // not a lab file
		"en: Apply it", "en: \"\"", // missing English
	).Replace(goodLab)
	_, err := Parse("labs/demo/lab.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error for a broken lab")
	}
	msg := err.Error()
	for _, want := range []string{
		"labs/demo/lab.yaml:5: field colour not found",
		"must set exactly one kind",
		`apply "other.yaml": not in the lab's files`,
		"step instructions needs both ko and en",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, line := range strings.Split(msg, "\n") {
		if !strings.HasPrefix(line, "labs/demo/lab.yaml:") {
			t.Errorf("problem without file and line: %q", line)
		}
	}
}

func TestAnswerChecks(t *testing.T) {
	t.Parallel()
	q := func(id, truth, object string) string {
		return "\n      - id: " + id + "\n        title: {ko: 질문, en: question}\n        answer: {question: {ko: 몇 개, en: how many}, truth: " + truth + ", object: '" + object + "'}"
	}
	for _, tt := range []struct {
		name, checks, want string
	}{
		{"a fact of the cluster needs no object", q("n", "nodeCount", ""), ""},
		{"a pod's IP needs one", q("ip", "podIP", ""), "needs object"},
		{"short names of what?", q("s", "shortName", ""), "needs object"},
		{"unknown truth", q("x", "nodeColour", ""), "truth must be"},
		{"two questions in a step", q("a", "nodeCount", "") + q("b", "containerRuntime", ""), `step "one" asks a second question`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := strings.Replace(goodLab, "      - id: exists", strings.TrimPrefix(tt.checks, "\n")+"\n      - id: exists", 1)
			_, err := Parse("labs/demo/lab.yaml", []byte(src))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("valid: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadChecksIDsAndFiles(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"wrongdir/lab.yaml": {Data: []byte(goodLab)}}
	_, err := Load(fsys, fstest.MapFS{})
	if err == nil || !strings.Contains(err.Error(), `id "demo" must match its directory "wrongdir"`) || !strings.Contains(err.Error(), `file "pod.yaml" is not in manifests/demo/`) {
		t.Errorf("Load = %v", err)
	}
	if _, err := Load(fstest.MapFS{}, fstest.MapFS{}); err == nil {
		t.Error("no labs must be an error")
	}
}

func TestBrokenPackInTestdata(t *testing.T) {
	t.Parallel()
	_, err := Load(os.DirFS("../../testdata/broken-pack/labs"), os.DirFS("../../testdata/broken-pack/manifests"))
	if err == nil || !strings.Contains(err.Error(), "labs/broken/lab.yaml:") {
		t.Errorf("broken pack: %v", err)
	}
}

func TestTextFallback(t *testing.T) {
	t.Parallel()
	if got := (Text{En: "only en"}).In("ko"); got != "only en" {
		t.Errorf("ko falls back to en: %q", got)
	}
	if got := (Text{Ko: "한국어"}).In("en"); got != "한국어" {
		t.Errorf("en falls back to ko: %q", got)
	}
}

func TestPodsCheckFields(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		pods string // the check's pods: mapping
		want string // "" for a valid check
	}{
		{"made by a ReplicaSet, counted in all", "{createdBy: ReplicaSet/replicaset-nginx, selector: app=x, count: 3, totalCount: 4}", ""},
		{"made by, without a selector", "{createdBy: ReplicaSet/replicaset-nginx, count: 1, orphaned: true}", ""},
		{"totalCount without createdBy", "{selector: '!app', count: 1, totalCount: 1}", "totalCount counts the pods createdBy made: set createdBy"},
		{"createdBy of another kind", "{createdBy: Deployment/web, count: 1}", "createdBy must be ReplicaSet/<name>"},
		{"createdBy without a name", "{createdBy: ReplicaSet, count: 1}", "createdBy must be ReplicaSet/<name>"},
		{"createdBy with a bad name", "{createdBy: ReplicaSet/Web_1, count: 1}", "createdBy must be ReplicaSet/<name>"},
		{"negative count", "{selector: app=x, count: -1}", "count and totalCount must be 0 or more"},
		{"nothing to count", "{count: 1}", "needs a selector, a name or createdBy"},
		{"a misspelt field", "{createdby: ReplicaSet/x, count: 1}", "field createdby not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := strings.Replace(goodLab, "exists: {kind: Pod, name: p}", "pods: "+tt.pods, 1)
			_, err := Parse("labs/demo/lab.yaml", []byte(src))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("valid check refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// The book's files, comments and trailing spaces included, decode as kindlab
// applies them, into kinds a lab may touch.
func TestShippedManifestsDecode(t *testing.T) {
	t.Parallel()
	set, err := Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatalf("shipped labs: %v", err)
	}
	for _, l := range set.Labs {
		for _, f := range l.Files {
			data, err := set.Manifest(l.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			var obj struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := sigsyaml.Unmarshal(data, &obj); err != nil || !objectKinds[obj.Kind] || obj.Metadata.Name == "" {
				t.Errorf("%s/%s: decodes to kind %q name %q (%v); want a Pod, ReplicaSet, Deployment or Service with a name", l.ID, f, obj.Kind, obj.Metadata.Name, err)
			}
		}
	}
}

// Every lab of the chapter but the questions-only components lab declares the
// near-misses its checks must catch (`kindlab labs selftest` proves them).
func TestShippedLabsDeclareNearMisses(t *testing.T) {
	t.Parallel()
	set, err := Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range set.Labs {
		n := 0
		for _, st := range l.Steps {
			n += len(st.NearMisses)
		}
		if n == 0 && l.ID != "components" {
			t.Errorf("lab %s declares no near-miss", l.ID)
		}
	}
}

// A near-miss names a check of its step that is not a question, what its
// diagnosis says, and actions that change the cluster; a written-out manifest
// must be objects of lab kinds.
func TestNearMissDeclarationsAreChecked(t *testing.T) {
	t.Parallel()
	good := strings.Replace(goodLab, "    solution:", `    nearMisses:
      - id: typo
        what: {ko: 오타, en: a typo}
        actions:
          - manifest: |
              apiVersion: v1
              kind: Pod
              metadata: {name: q}
        fails: exists
        diagnosis: "there is a Pod q"
        undo:
          - delete: {kind: Pod, name: q}
    solution:`, 1)
	if _, err := Parse("labs/demo/lab.yaml", []byte(good)); err != nil {
		t.Fatalf("a good near-miss: %v", err)
	}
	bad := strings.NewReplacer(
		"fails: exists", "fails: nothing",
		`diagnosis: "there is a Pod q"`, `diagnosis: ""`,
		"kind: Pod\n", "kind: Widget\n",
		"undo:\n          - delete: {kind: Pod, name: q}", "undo:\n          - wait: [exists]",
	).Replace(good)
	_, err := Parse("labs/demo/lab.yaml", []byte(bad))
	if err == nil {
		t.Fatal("no error for broken near-misses")
	}
	for _, want := range []string{
		`fails "nothing" is no check of step "one"`,
		`near-miss "typo": say what the diagnosis must say`,
		"manifest: each object needs a kind (Pod, ReplicaSet, Deployment, Service) and metadata.name",
		"answer and wait are not near-miss actions",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}
