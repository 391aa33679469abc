//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	junit "github.com/joshdk/go-junit"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kindlab/kindlab/internal/grade"
	"github.com/kindlab/kindlab/internal/kube"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

// cli runs the kindlab binary as a user would and returns its exit code and output.
type cli struct {
	t     *testing.T
	bin   string
	state string
	base  []string
}

func (c cli) run(args ...string) (int, string, string) {
	c.t.Helper()
	cmd := exec.Command(c.bin, append(append([]string{}, c.base...), args...)...)
	cmd.Env = append(os.Environ(), "KINDLAB_STATE_DIR="+c.state, "KINDLAB_CACHE_DIR="+cacheDir(), "LANG=C")
	cmd.Dir = c.state
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("kindlab %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

func (c cli) must(want int, args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(args...)
	if code != want {
		c.t.Fatalf("kindlab %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out
}

// junitStatuses reads a JUnit file with a JUnit parser: status by "lab classname name".
func junitStatuses(t *testing.T, path string) map[string]junit.Status {
	t.Helper()
	suites, err := junit.IngestFile(path)
	if err != nil {
		t.Fatalf("%s is not JUnit a parser reads: %v", path, err)
	}
	out := map[string]junit.Status{}
	for _, s := range suites {
		for _, tc := range s.Tests {
			out[s.Name+" "+tc.Classname+" "+tc.Name] = tc.Status
		}
	}
	return out
}

// TestGradeFailsFreshPassesSolvedAndCannotWithoutCluster proves `kindlab grade`
// with the real binary on a real cluster: on a fresh cluster every graded check
// fails (exit 1); after `solve LAB --all` every graded check of that lab passes
// (exit 0); with no cluster or an unknown lab it exits 2 and says why. Then the
// class tools in namespace mode on the same cluster (TestClass... below shares it).
func TestGradeFailsFreshPassesSolvedAndCannotWithoutCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	set, err := lab.Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatal(err)
	}
	m := newManager(t)
	name := "kindlab-e2e-grade"
	createCluster(t, ctx, m, name, freePort(t))
	k := cli{t: t, bin: buildKindlab(t), state: t.TempDir(), base: []string{"--cluster", name}}

	t.Run("fresh cluster: every graded check fails", func(t *testing.T) {
		k.t = t
		xml, js := filepath.Join(k.state, "fresh.xml"), filepath.Join(k.state, "fresh.json")
		out := k.must(1, "grade", "--all", "--timeout", "3s", "--junit", xml, "--json", js)
		st := junitStatuses(t, xml)
		failed, skipped := 0, 0
		for name, s := range st {
			switch s {
			case junit.StatusFailed:
				failed++
			case junit.StatusSkipped:
				skipped++
			default:
				t.Errorf("%s is %s on a fresh cluster, want failed", name, s)
			}
		}
		var rep struct {
			Passed  bool
			Summary struct{ Labs, Checks, Passed, Failed, Skipped, Errors int }
		}
		data, _ := os.ReadFile(js)
		if err := json.Unmarshal(data, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Passed || rep.Summary.Labs != len(set.Labs) || rep.Summary.Failed != failed || rep.Summary.Skipped != skipped || failed == 0 {
			t.Errorf("JSON summary %+v disagrees with JUnit (%d failed, %d skipped)", rep.Summary, failed, skipped)
		}
		t.Logf("fresh: %d graded checks all failed, %d skipped\n%s", failed, skipped, lastLine(out))
	})

	for _, l := range set.Labs {
		if !onlyLabs(l.ID) {
			continue
		}
		t.Run("solved/"+l.ID, func(t *testing.T) {
			k.t = t
			if !hasGradedCheck(l) {
				// components: questions only; grade says so and exits 2.
				code, _, errOut := k.run("grade", l.ID)
				if code != 2 || !strings.Contains(errOut, "kindlab check LAB") {
					t.Errorf("grade %s (no graded check): exit %d, %q; want 2 and where its answers are checked", l.ID, code, errOut)
				}
				return
			}
			k.must(0, "solve", l.ID, "--all")
			xml := filepath.Join(k.state, l.ID+".xml")
			out := k.must(0, "grade", l.ID, "--timeout", "1m", "--junit", xml)
			passed := 0
			for name, s := range junitStatuses(t, xml) {
				switch s {
				case junit.StatusPassed:
					passed++
				case junit.StatusSkipped:
				default:
					t.Errorf("%s is %s after solve --all, want passed", name, s)
				}
			}
			if passed == 0 {
				t.Errorf("no check of %s passed", l.ID)
			}
			t.Logf("%s: %d graded checks pass; %s", l.ID, passed, lastLine(out))
			k.must(0, "reset", l.ID)
		})
	}

	t.Run("cannot grade", func(t *testing.T) {
		k.t = t
		code, _, errOut := k.run("grade", "--all", "--cluster", "kindlab-e2e-none")
		if code != 2 || !strings.Contains(errOut, `no cluster named "kindlab-e2e-none"`) {
			t.Errorf("no cluster: exit %d, stderr %q; want 2 and why", code, errOut)
		}
		code, _, errOut = k.run("grade", "no-such-lab")
		if code != 2 || !strings.Contains(errOut, "no-such-lab") {
			t.Errorf("unknown lab: exit %d, stderr %q; want 2 and why", code, errOut)
		}
		// An API server that does not answer: a kubeconfig pointing at a closed port.
		bad := filepath.Join(k.state, "dead.kubeconfig")
		os.WriteFile(bad, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"), 0o600)
		code, _, errOut = k.run("grade", "--all", "--kubeconfig", bad)
		if code != 2 {
			t.Errorf("dead API server: exit %d, stderr %q; want 2", code, errOut)
		}
	})

	t.Run("class of two learners in namespaces", func(t *testing.T) {
		k.t = t
		classInNamespaces(t, ctx, k, m, name)
	})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

type classStatus []struct {
	Learner string
	Error   string
	Labs    []struct {
		Lab            string
		Passed, Graded int
		Done           bool
	}
}

func (cs classStatus) done(learner, labID string) (bool, int) {
	for _, r := range cs {
		if r.Learner == learner {
			for _, l := range r.Labs {
				if l.Lab == labID {
					return l.Done, l.Passed
				}
			}
		}
	}
	return false, -1
}

// classInNamespaces: two learners share the cluster; one solves a lab, the other
// not; status shows it; resetting one leaves the other untouched; a learner's
// kubeconfig cannot read the other's namespace.
func classInNamespaces(t *testing.T, ctx context.Context, k cli, m interface {
	Kubeconfig(string) (string, error)
}, clusterName string) {
	out := k.must(0, "class", "create", "--learners", "2", "--namespaces")
	t.Logf("class create:\n%s", out)
	kc := map[string]string{}
	for _, l := range []string{"student-01", "student-02"} {
		kc[l] = filepath.Join(k.state, "class", l+".kubeconfig")
		if !strings.Contains(out, kc[l]) {
			t.Fatalf("class create does not say where %s's kubeconfig is:\n%s", l, out)
		}
	}
	// Learner 1 works with their own kubeconfig only (its namespace is the default).
	learner1 := cli{t: t, bin: k.bin, state: k.state, base: []string{"--kubeconfig", kc["student-01"]}}
	// Every lab's reference solution passes in a learner's namespace, under Pod
	// Security baseline, the quota and the limit range, with the learner's own
	// helper pod; each is reset after, but the pod lab, which stays solved.
	set, err := lab.Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(set.Labs) - 1; i >= 0; i-- {
		l := set.Labs[i]
		if l.ID != "pod" && !onlyLabs(l.ID) || !hasGradedCheck(l) {
			continue
		}
		start := time.Now()
		learner1.must(0, "solve", l.ID, "--all")
		out := learner1.must(0, "grade", l.ID, "--timeout", "1m")
		t.Logf("as a class learner: %s solved and graded: %s (%s)", l.ID, lastLine(out), time.Since(start).Round(100*time.Millisecond))
		if l.ID != "pod" {
			learner1.must(0, "reset", l.ID)
		}
	}
	// Learner 2 solves the ExternalName lab, whose DNS name holds the namespace.
	learner2 := cli{t: t, bin: k.bin, state: k.state, base: []string{"--kubeconfig", kc["student-02"]}}
	learner2.must(0, "solve", "service-externalname", "--all")
	if n := progressLabs(t, learnerProgressFile(k, "student-01")); n == 0 {
		t.Errorf("the learner's own kindlab kept no progress at %s", learnerProgressFile(k, "student-01"))
	}
	kcData, _ := m.Kubeconfig(clusterName)
	adminCfg, _ := kube.RESTConfigFromKubeconfig([]byte(kcData), "")
	admin, _ := kubernetes.NewForConfig(adminCfg)

	status := func() classStatus {
		var cs classStatus
		if err := json.Unmarshal([]byte(k.must(0, "class", "status", "-o", "json")), &cs); err != nil {
			t.Fatal(err)
		}
		return cs
	}
	cs := status()
	if d, _ := cs.done("student-01", "pod"); !d {
		t.Errorf("status: student-01 solved pod, status says not done: %+v", cs)
	}
	if d, n := cs.done("student-02", "pod"); d || n != 0 {
		t.Errorf("status: student-02 did not touch pod, status says done=%v passed=%d", d, n)
	}
	if d, _ := cs.done("student-02", "service-externalname"); !d {
		t.Errorf("status: student-02 solved service-externalname, status says not done")
	}
	table := k.must(0, "class", "status")
	t.Logf("class status:\n%s", table)

	// Student-02 begins the pod lab with a tag the cluster does not have: the
	// heatmap names the check and why, the gradebook gives student-01 its
	// points, student-02 none for it.
	kubectl{t: t, bin: kubectlBin(t), kubeconfig: kc["student-02"], dir: t.TempDir()}.run("run", "my-nginx-pod", "--image=nginx:1.99")
	eventually(t, ctx, "class status names where student-02 is stuck", func(context.Context) error {
		table = k.must(0, "class", "status", "--idle", "1h")
		return contains(table, "Where the class is stuck", "pod/create-pod/pod-ready", "1/2", "cannot pull image nginx:1.99: it is not available offline")
	})
	t.Logf("class status:\n%s", table)
	book := k.must(0, "class", "status", "-o", "csv")
	t.Logf("class status -o csv:\n%s", book)
	recs, err := csv.NewReader(strings.NewReader(book)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("gradebook: %v\n%s", err, book)
	}
	col := slices.Index(recs[0], "pod/create-pod/pod-ready")
	for _, r := range recs[1:] {
		if want := map[string]string{"student-01": "1", "student-02": "0"}[r[0]]; col < 0 || r[col] != want {
			t.Errorf("gradebook: %s has %q for pod-ready, want %q", r[0], r[col], want)
		}
		if r[len(r)-1] == "" {
			t.Errorf("gradebook: %s has no last change, though they changed things", r[0])
		}
	}
	kubectl{t: t, bin: kubectlBin(t), kubeconfig: kc["student-02"], dir: t.TempDir()}.run("delete", "pod", "my-nginx-pod", "--wait=false")

	// Isolation, checked through the API with the learners' own credentials.
	for learner, other := range map[string]string{"student-01": "student-02", "student-02": "student-01"} {
		data, _ := os.ReadFile(kc[learner])
		cfg, err := kube.RESTConfigFromKubeconfig(data, "")
		if err != nil {
			t.Fatal(err)
		}
		cs, _ := kubernetes.NewForConfig(cfg)
		if _, err := cs.CoreV1().Pods(learner).List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("%s cannot list pods in their own namespace: %v", learner, err)
		}
		_, err = cs.CoreV1().Pods(other).List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s listing pods in %s: %v, want Forbidden", learner, other, err)
		}
		_, err = cs.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s listing secrets in kube-system: %v, want Forbidden", learner, err)
		}
	}

	t.Run("learners are contained", func(t *testing.T) {
		k.t = t
		learnersAreContained(t, ctx, k, admin, learnerAccess(t, "student-01", kc["student-01"]), learnerAccess(t, "student-02", kc["student-02"]), out)
		tokensExpire(t, k, learnerAccess(t, "student-01", kc["student-01"]))
		foreignNamespaceIsLeftAlone(t, ctx, k, admin)
	})
	k.t = t

	k.must(0, "class", "reset", "--learner", "student-01")
	if n := progressLabs(t, learnerProgressFile(k, "student-01")); n != 0 {
		t.Errorf("class reset left %d labs of the progress the learner's own kindlab reads", n)
	}
	cs = status()
	if d, n := cs.done("student-01", "pod"); d || n != 0 {
		t.Errorf("after reset of student-01: pod done=%v passed=%d, want nothing", d, n)
	}
	if d, _ := cs.done("student-02", "service-externalname"); !d {
		t.Errorf("reset of student-01 touched student-02's work")
	}

	k.must(0, "class", "delete")
	if _, err := os.Stat(filepath.Join(k.state, "class", "class.json")); !os.IsNotExist(err) {
		t.Errorf("class file left after class delete: %v", err)
	}
	classLeavesNothing(t, ctx, admin)
	foreignNamespaceSurvives(t, ctx, admin)
	for _, ns := range []string{"student-01", "student-02"} {
		n, err := admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err == nil && n.DeletionTimestamp == nil {
			t.Errorf("namespace %s is still there after class delete", ns)
		}
	}

	// Beyond one machine: a class on a cluster kindlab reaches only through an
	// instructor's kubeconfig and context (here this cluster's, exported under
	// another context name, standing in for a cluster elsewhere).
	t.Run("class on a cluster given by kubeconfig", func(t *testing.T) {
		k.t = t
		adminKC := filepath.Join(k.state, "elsewhere.kubeconfig")
		cfgData := strings.ReplaceAll(kcData, "kind-"+clusterName, "elsewhere")
		if err := os.WriteFile(adminKC, []byte(cfgData), 0o600); err != nil {
			t.Fatal(err)
		}
		out := k.must(0, "class", "create", "--learners", "1", "--namespaces", "--prefix", "remote", "--kubeconfig", adminKC, "--context", "elsewhere")
		t.Logf("class create on a cluster given by kubeconfig:\n%s", out)
		if !strings.Contains(out, "network isolation:") {
			t.Errorf("class create does not report network isolation")
		}
		learner := cli{t: t, bin: k.bin, state: k.state, base: []string{"--kubeconfig", filepath.Join(k.state, "class", "remote-01.kubeconfig")}}
		learner.must(0, "solve", "pod", "--all")
		var cs classStatus
		if err := json.Unmarshal([]byte(k.must(0, "class", "status", "-o", "json")), &cs); err != nil {
			t.Fatal(err)
		}
		if d, _ := cs.done("remote-01", "pod"); !d {
			t.Errorf("class status on a cluster given by kubeconfig: %+v", cs)
		}
		k.must(0, "class", "delete")
		classLeavesNothing(t, ctx, admin)
	})
}

// hasGradedCheck reports whether grade looks at any of the lab's checks.
func hasGradedCheck(l *lab.Lab) bool {
	for _, it := range grade.Plan(l) {
		if it.Skip == "" {
			return true
		}
	}
	return false
}
