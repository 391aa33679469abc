//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/kube"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

// onlyLabs restricts the walk to the labs named in KINDLAB_E2E_LABS (comma-separated).
func onlyLabs(id string) bool {
	v := os.Getenv("KINDLAB_E2E_LABS")
	if v == "" {
		return true
	}
	for _, x := range strings.Split(v, ",") {
		if strings.TrimSpace(x) == id {
			return true
		}
	}
	return false
}

// TestEveryLabCheckFailsBeforeAndPassesAfter walks the whole chapter on a real
// cluster of three nodes (KINDLAB_E2E_NODES to change it; the book's own walk,
// grading and the UI run on one), after proving its pod network across the
// nodes: for every lab and step, right after the step's setup every check FAILS,
// and after the reference solution every check PASSES. After each lab, a reset
// leaves the namespace as a new cluster has it. KINDLAB_E2E_ROUNDS repeats the
// chapter (default 1) to catch flakes.
func TestEveryLabCheckFailsBeforeAndPassesAfter(t *testing.T) {
	rounds := 1
	if v, err := strconv.Atoi(os.Getenv("KINDLAB_E2E_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	set, err := lab.Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatalf("labs do not load: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	m := newManager(t)
	name := "kindlab-e2e-labs"
	nodes := 3
	if v, err := strconv.Atoi(os.Getenv("KINDLAB_E2E_NODES")); err == nil && v > 0 {
		nodes = v
	}
	createClusterOf(t, ctx, m, name, freePort(t), nodes)
	cfg, cs := clients(t, m, name)
	if nodes > 1 {
		t.Run(fmt.Sprintf("network across %d nodes", nodes), func(t *testing.T) { networkAcrossNodes(t, ctx, cfg, cs) })
	}
	sess, err := engine.Open(ctx, set, engine.Target{
		Config: cfg, Namespace: "default", HostPort: m.HostPort(ctx, name),
		NodeAddress: func(ctx context.Context) (string, error) { return m.NodeAddress(ctx, name) },
	}, "en")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	baseline := namespaceObjects(t, ctx, sess)

	for round := 1; round <= rounds; round++ {
		for _, l := range set.Labs {
			if !onlyLabs(l.ID) {
				continue
			}
			t.Run(fmt.Sprintf("round%d/%s", round, l.ID), func(t *testing.T) {
				answers := map[string]string{} // the lab's, as its solutions record them
				start := time.Now()
				for i := range l.Steps {
					st := &l.Steps[i]
					if err := sess.Setup(ctx, l, st); err != nil {
						t.Fatalf("%s: %v", st.ID, err)
					}
					// The watch cache may lag setup by a moment; a lagging cache still shows
					// the previous step's end state, where this step's checks fail too.
					for _, r := range sess.Evaluate(ctx, st, answers) {
						if r.Status != check.Fail {
							t.Errorf("%s/%s: check %s is %s before the solution, want fail: %s", l.ID, st.ID, r.Check, r.Status, r.Message)
						}
					}
					rs, got, err := sess.Solve(ctx, l, st, answers, 3*time.Minute)
					answers = got
					if err != nil {
						var lines []string
						for _, r := range rs {
							if r.Status != check.Pass {
								lines = append(lines, fmt.Sprintf("%s: %s %s %v", r.Check, r.Status, r.Message, r.Evidence))
							}
						}
						t.Fatalf("%s/%s: %v\n  %s", l.ID, st.ID, err, strings.Join(lines, "\n  "))
					}
				}
				solved := time.Since(start)
				resetStart := time.Now()
				if err := sess.Reset(ctx, l); err != nil {
					t.Fatalf("reset: %v", err)
				}
				t.Logf("%s: solved in %s, reset in %s", l.ID, solved.Round(100*time.Millisecond), time.Since(resetStart).Round(100*time.Millisecond))
				if got := namespaceObjects(t, ctx, sess); got != baseline {
					t.Errorf("after reset the namespace holds\n  %s\nwant as fresh:\n  %s", got, baseline)
				}
			})
		}
	}
}

// namespaceObjects lists what a learner could see with kubectl get all.
func namespaceObjects(t *testing.T, ctx context.Context, sess *engine.Session) string {
	t.Helper()
	cs := sess.Client()
	ns := sess.Namespace()
	var out []string
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		out = append(out, "pod/"+p.Name+" "+kube.PodProblem(&p))
	}
	rss, _ := cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	for _, r := range rss.Items {
		out = append(out, "rs/"+r.Name)
	}
	ds, _ := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	for _, d := range ds.Items {
		out = append(out, "deploy/"+d.Name)
	}
	svcs, _ := cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	for _, s := range svcs.Items {
		out = append(out, "svc/"+s.Name)
	}
	return strings.Join(out, ", ")
}
