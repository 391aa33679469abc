//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kindlab/kindlab/internal/cluster"
)

var pulledIn = regexp.MustCompile(`Successfully pulled image "[^"]+" in ([0-9.]+[a-zµ]+)`)

// BenchmarkPullThroughRegistry measures what a learner waits for when the book's
// `image: nginx:latest` (pull policy Always) starts: the kubelet's own pull time of
// nginx:latest from kindlab's local registry, as its "Pulled" event reports it. Each
// iteration creates a fresh cluster and starts two pods one after another: the
// first pull on a new node (first: every layer comes from the registry, as for the
// first pod a learner makes) and the next one (again: the node has the layers and
// asks the registry for the manifest only, as for every later pod of the book's
// ReplicaSets). Reported: p50/p95 of each, in ms; ns/op includes the create. Run:
// go test -tags e2e -run '^$' -bench BenchmarkPullThroughRegistry -benchtime 5x ./internal/e2e/
func BenchmarkPullThroughRegistry(b *testing.B) {
	ctx := context.Background()
	m := newManager(b)
	name := "kindlab-bench-pull"
	pull := func(cs kubernetes.Interface, pod string) time.Duration {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pod},
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
		return took
	}
	var first, again []time.Duration
	for i := 0; i < b.N; i++ {
		if ok, _ := m.Exists(name); ok {
			_ = m.Delete(ctx, name, "")
		}
		if err := m.Create(ctx, cluster.CreateOptions{Name: name, KubeconfigPath: filepath.Join(b.TempDir(), "kubeconfig")}); err != nil {
			b.Fatal(err)
		}
		_, cs := clientsB(b, m, name)
		first = append(first, pull(cs, "first"))
		again = append(again, pull(cs, "again"))
		if err := m.Delete(ctx, name, ""); err != nil {
			b.Fatal(err)
		}
	}
	report := func(unit string, ds []time.Duration) {
		b.ReportMetric(float64(percentile(ds, 0.50).Milliseconds()), unit+"-p50-ms")
		b.ReportMetric(float64(percentile(ds, 0.95).Milliseconds()), unit+"-p95-ms")
		var s []string
		for _, d := range ds {
			s = append(s, d.Round(time.Millisecond).String())
		}
		b.Logf("%s pulls: %s", unit, strings.Join(s, " "))
	}
	report("first", first)
	report("again", again)
}
