//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kindlab/kindlab/internal/cluster"
)

var pulledIn = regexp.MustCompile(`Successfully pulled image "[^"]+" in ([0-9.]+[a-zµ]+)`)

// BenchmarkPullThroughRegistry measures what a learner waits for when the book's
// `image: nginx:latest` (pull policy Always) starts: the kubelet's own pull time of
// nginx:latest from kindlab's local registry, as its "Pulled" event reports it, in
// two cases per iteration — cold (the node's copy removed first with crictl, so
// every layer comes from the registry) and warm (the node has the layers: the
// registry is asked for the manifest only, as for every later pod of the book's
// ReplicaSets). Reported: p50/p95 of each, in ms. Run:
// go test -tags e2e -run '^$' -bench BenchmarkPullThroughRegistry -benchtime 10x ./internal/e2e/
func BenchmarkPullThroughRegistry(b *testing.B) {
	ctx := context.Background()
	m := newManager(b)
	name := "kindlab-bench-pull"
	if ok, _ := m.Exists(name); ok {
		_ = m.Delete(ctx, name, "")
	}
	if err := m.Create(ctx, cluster.CreateOptions{Name: name, KubeconfigPath: filepath.Join(b.TempDir(), "kubeconfig")}); err != nil {
		b.Fatal(err)
	}
	defer m.Delete(context.Background(), name, "")
	_, cs := clientsB(b, m, name)
	node := name + "-control-plane"
	pull := func(i int, cold bool) time.Duration {
		if cold {
			if out, err := exec.Command("docker", "exec", node, "crictl", "rmi", "docker.io/library/nginx:latest").CombinedOutput(); err != nil {
				b.Fatalf("crictl rmi: %v %s", err, out)
			}
		}
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pull-%d-%v", i, cold)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:latest"}}}}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		var took time.Duration
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			for _, msg := range pullEvents(ctx, cs, "default", p.Name)["Pulled"] {
				if m := pulledIn.FindStringSubmatch(msg); m != nil {
					d, err := time.ParseDuration(m[1])
					took = d
					return err == nil, err
				}
			}
			return false, nil
		})
		if err != nil {
			b.Fatalf("%s: no Pulled event: %v (%v)", p.Name, err, pullEvents(ctx, cs, "default", p.Name))
		}
		_ = cs.CoreV1().Pods("default").Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
		return took
	}
	var cold, warm []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cold = append(cold, pull(i, true))
		warm = append(warm, pull(i, false))
	}
	b.StopTimer()
	report := func(unit string, ds []time.Duration) {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		b.ReportMetric(float64(percentile(ds, 0.50).Milliseconds()), unit+"-p50-ms")
		b.ReportMetric(float64(percentile(ds, 0.95).Milliseconds()), unit+"-p95-ms")
		var s []string
		for _, d := range ds {
			s = append(s, d.Round(time.Millisecond).String())
		}
		b.Logf("%s pulls: %s", unit, strings.Join(s, " "))
	}
	report("cold", cold)
	report("warm", warm)
}
