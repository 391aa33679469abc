//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/kindlab/kindlab/internal/images"
)

// buildKindlab builds the kindlab binary once for benchmarks that run it as a user
// would, so its peak memory can be read from the process's rusage.
func buildKindlab(b testing.TB) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "kindlab")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/kindlab")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build kindlab: %v\n%s", err, out)
	}
	return bin
}

func runKindlab(b *testing.B, bin string, args ...string) (time.Duration, int64) {
	b.Helper()
	start := time.Now()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KINDLAB_CACHE_DIR="+cacheDir())
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("kindlab %v: %v\n%s", args, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return elapsed, ru.Maxrss // KiB on Linux
}

// BenchmarkClusterCreate compares, on the same node image and in one run,
// `kindlab cluster create` (which also installs MetalLB and waits until every
// system pod is Ready) with the kind library creating a bare cluster, both without
// waiting (kind's default) and with kind's --wait (control-plane node Ready). The
// three alternate within each iteration, in an order that rotates, so a machine
// busier at one moment does not favour one of them; each create is followed by a
// delete. Reported per create: seconds of each (kindlab-s, kind-bare-s,
// kind-wait-s), kindlab's ratios to each (x-bare, x-wait), kindlab's delete and peak
// RSS. ns/op is one iteration: all three creates and deletes. Run: make bench.
func BenchmarkClusterCreate(b *testing.B) {
	bin := buildKindlab(b)
	name := "kindlab-bench"
	provider := kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(log.NoopLogger{}))
	_ = provider.Delete(name, "")
	kubeconfig := filepath.Join(b.TempDir(), "kubeconfig")
	image := images.NodeImage(images.DefaultKubernetesVersion)

	var kl, bare, wait, del, kindDel, hard time.Duration
	var rss int64
	kindlab := func() {
		d, r := runKindlab(b, bin, "cluster", "create", "--cluster", name, "--host-port", "0", "--kubeconfig", kubeconfig)
		kl += d
		rss = max(rss, r)
		kc := []string{"--kubeconfig", kubeconfig}
		if os.Getenv("KINDLAB_BENCH_RESET_HARD") != "" {
			// What a learner's `reset --hard` costs: delete and create again (in
			// the user's kubeconfig, as for a learner; the delete takes it out).
			d, _ = runKindlab(b, bin, "reset", "--hard", "--cluster", name)
			hard += d
			kc = nil
		}
		d, _ = runKindlab(b, bin, append([]string{"cluster", "delete", "--cluster", name}, kc...)...)
		del += d
	}
	kind := func(w time.Duration, total *time.Duration) func() {
		return func() {
			start := time.Now()
			err := provider.Create(name, kindcluster.CreateWithNodeImage(image), kindcluster.CreateWithWaitForReady(w),
				kindcluster.CreateWithKubeconfigPath(kubeconfig), kindcluster.CreateWithDisplayUsage(false), kindcluster.CreateWithDisplaySalutation(false))
			*total += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			// Docker 20.10 sometimes fails a first removal under load; the same
			// retry kindlab's own delete does. Only the bare clusters' deletes
			// are timed: the --wait ones are the same cluster a moment older.
			start = time.Now()
			var derr error
			for try := 0; try < 3; try++ {
				if derr = provider.Delete(name, kubeconfig); derr == nil {
					break
				}
				time.Sleep(2 * time.Second)
			}
			if derr != nil {
				b.Fatal(derr)
			}
			if w == 0 {
				kindDel += time.Since(start)
			}
		}
	}
	runs := []func(){kindlab, kind(0, &bare), kind(5*time.Minute, &wait)}
	for i := 0; i < b.N; i++ {
		for j := range runs {
			runs[(i+j)%len(runs)]()
		}
	}
	n := float64(b.N)
	b.ReportMetric(kl.Seconds()/n, "kindlab-s")
	b.ReportMetric(bare.Seconds()/n, "kind-bare-s")
	b.ReportMetric(wait.Seconds()/n, "kind-wait-s")
	b.ReportMetric(kl.Seconds()/bare.Seconds(), "x-bare")
	b.ReportMetric(kl.Seconds()/wait.Seconds(), "x-wait")
	b.ReportMetric(del.Seconds()/n, "delete-s")
	b.ReportMetric(kindDel.Seconds()/n, "kind-delete-s")
	b.ReportMetric(del.Seconds()/kindDel.Seconds(), "x-delete")
	if hard > 0 {
		b.ReportMetric(hard.Seconds()/n, "reset-hard-s")
		b.ReportMetric(hard.Seconds()/kl.Seconds(), "x-reset-create")
	}
	b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
}

// BenchmarkImagesBuildWarm times `kindlab images build` with everything built.
func BenchmarkImagesBuildWarm(b *testing.B) {
	bin := buildKindlab(b)
	var rss int64
	for i := 0; i < b.N; i++ {
		_, r := runKindlab(b, bin, "images", "build")
		if r > rss {
			rss = r
		}
	}
	b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
}
