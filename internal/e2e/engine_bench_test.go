//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}

// BenchmarkLabEngine measures, on one real cluster: the verdict latency from a
// kubectl command to a changed check result (p50/p95 over 20 changes), solving and
// checking the whole chapter, `reset LAB` and, last, `reset --hard`.
func BenchmarkLabEngine(b *testing.B) {
	ctx := context.Background()
	set, err := lab.Load(labs.FS, manifests.FS)
	if err != nil {
		b.Fatal(err)
	}
	m := cluster.New(cluster.Options{})
	name := "kindlab-bench-labs"
	_ = m.Delete(ctx, name, "")
	dir := b.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := m.Create(ctx, cluster.CreateOptions{Name: name, KubeconfigPath: kubeconfig}); err != nil {
		b.Fatal(err)
	}
	defer m.Delete(context.Background(), name, kubeconfig)
	kc, _ := m.Kubeconfig(name)
	os.WriteFile(kubeconfig, []byte(kc), 0o600)
	cfg, _ := clientsB(b, m, name)
	sess, err := engine.Open(ctx, set, engine.Target{Config: cfg, Namespace: "default", HostPort: m.HostPort(ctx, name),
		NodeAddress: func(ctx context.Context) (string, error) { return m.NodeAddress(ctx, name) }}, "en")
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	kubectl := filepath.Join(cacheDir(), "bin", images.DefaultKubernetesVersion, "kubectl")

	b.Run("verdict-latency", func(b *testing.B) {
		// 100 changes per iteration, alternating apply and delete of a Service the
		// step's check looks for. Two latencies each: from the kubectl command's
		// start (its process start and the API server's write included), and from
		// the watch event's arrival in kindlab (the informer's handler) to the
		// changed verdict — the part kindlab owns.
		manifest := filepath.Join(dir, "svc.yaml")
		os.WriteFile(manifest, []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: latency-probe\nspec:\n  ports: [{port: 80}]\n"), 0o644)
		st := &lab.Step{ID: "latency", Checks: []lab.Check{{ID: "svc", Exists: &lab.ObjectCheck{Kind: "Service", Name: "latency-probe"}}}}
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var arrived atomic.Int64 // first event since the command, unix ns
		remove := sess.OnChange(func() { arrived.CompareAndSwap(0, time.Now().UnixNano()) })
		defer remove()
		ch := make(chan []check.Result, 16)
		go sess.Watch(wctx, st, nil, time.Hour, ch)
		<-ch // the first verdict
		var fromCommand, fromEvent []time.Duration
		for i := 0; i < 100*b.N; i++ {
			verb := []string{"apply", "-f", manifest}
			want := check.Pass
			if i%2 == 1 {
				verb, want = []string{"delete", "-f", manifest, "--wait=false"}, check.Fail
			}
			arrived.Store(0)
			start := time.Now()
			cmd := exec.Command(kubectl, append([]string{"--kubeconfig", kubeconfig}, verb...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("kubectl %v: %v %s", verb, err, out)
			}
			for rs := range ch {
				if rs[0].Status == want {
					now := time.Now()
					fromCommand = append(fromCommand, now.Sub(start))
					if at := arrived.Load(); at != 0 {
						fromEvent = append(fromEvent, now.Sub(time.Unix(0, at)))
					}
					break
				}
			}
		}
		if len(fromEvent) < len(fromCommand) {
			b.Fatalf("%d verdicts changed without a watch event", len(fromCommand)-len(fromEvent))
		}
		b.ReportMetric(float64(percentile(fromEvent, 0.5).Microseconds())/1000, "event-p50-ms")
		b.ReportMetric(float64(percentile(fromEvent, 0.95).Microseconds())/1000, "event-p95-ms")
		b.ReportMetric(float64(percentile(fromEvent, 0.99).Microseconds())/1000, "event-p99-ms")
		b.ReportMetric(float64(percentile(fromCommand, 0.5).Milliseconds()), "kubectl-p50-ms")
		b.ReportMetric(float64(percentile(fromCommand, 0.95).Milliseconds()), "kubectl-p95-ms")
		b.ReportMetric(float64(len(fromEvent)), "changes")
	})

	var resetLab time.Duration
	b.Run("solve-and-check-chapter", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for _, l := range set.Labs {
				answers := map[string]string{}
				for j := range l.Steps {
					st := &l.Steps[j]
					if err := sess.Setup(ctx, l, st); err != nil {
						b.Fatal(err)
					}
					var err error
					if _, answers, err = sess.Solve(ctx, l, st, answers, 3*time.Minute); err != nil {
						b.Fatalf("%s/%s: %v", l.ID, st.ID, err)
					}
				}
				b.StopTimer()
				start := time.Now()
				if err := sess.Reset(ctx, l); err != nil {
					b.Fatal(err)
				}
				resetLab += time.Since(start)
				b.StartTimer()
			}
		}
	})

	b.Run("reset-lab", func(b *testing.B) {
		// The deployment lab left solved, then reset: its Deployment, ReplicaSets, pods.
		l, _ := set.Get("deployment")
		var total time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			for j := range l.Steps[:3] {
				if _, _, err := sess.Solve(ctx, l, &l.Steps[j], nil, 3*time.Minute); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
			start := time.Now()
			if err := sess.Reset(ctx, l); err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
		}
		b.ReportMetric(total.Seconds()/float64(b.N), "s/reset")
	})

	b.Run("reset-hard", func(b *testing.B) {
		bin := buildKindlab(b)
		for i := 0; i < b.N; i++ {
			d, _ := runKindlab(b, bin, "reset", "--hard", "--cluster", name)
			b.ReportMetric(d.Seconds(), "s/reset")
		}
	})
	fmt.Fprintf(os.Stderr, "reset of every lab after solving it: %s in total\n", resetLab.Round(100*time.Millisecond))
}
