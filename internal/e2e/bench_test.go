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
// `kindlab cluster create` (which also checks the lab images and waits for every
// system pod to be Ready) with the kind library creating a bare cluster, both
// without waiting (kind's default) and with kind's --wait (control plane Ready).
// Each iteration also times the delete. Run: make bench.
func BenchmarkClusterCreate(b *testing.B) {
	bin := buildKindlab(b)
	name := "kindlab-bench"
	provider := kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(log.NoopLogger{}))
	_ = provider.Delete(name, "")
	kubeconfig := filepath.Join(b.TempDir(), "kubeconfig")
	image := images.NodeImage(images.DefaultKubernetesVersion)

	b.Run("kindlab", func(b *testing.B) {
		var rss int64
		var del time.Duration
		for i := 0; i < b.N; i++ {
			_, r := runKindlab(b, bin, "cluster", "create", "--cluster", name, "--host-port", "0", "--kubeconfig", kubeconfig)
			if r > rss {
				rss = r
			}
			b.StopTimer()
			d, _ := runKindlab(b, bin, "cluster", "delete", "--cluster", name, "--kubeconfig", kubeconfig)
			del += d
			b.StartTimer()
		}
		b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
		b.ReportMetric(del.Seconds()/float64(b.N), "delete-s/op")
	})
	for _, v := range []struct {
		name string
		wait time.Duration
	}{{"kind-bare", 0}, {"kind-bare-wait", 5 * time.Minute}} {
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				err := provider.Create(name, kindcluster.CreateWithNodeImage(image), kindcluster.CreateWithWaitForReady(v.wait),
					kindcluster.CreateWithKubeconfigPath(kubeconfig), kindcluster.CreateWithDisplayUsage(false), kindcluster.CreateWithDisplaySalutation(false))
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				// Docker 20.10 sometimes fails a first removal under load; the same
				// retry kindlab's own delete does.
				var err2 error
				for try := 0; try < 3; try++ {
					if err2 = provider.Delete(name, kubeconfig); err2 == nil {
						break
					}
					time.Sleep(2 * time.Second)
				}
				if err2 != nil {
					b.Fatal(err2)
				}
				b.StartTimer()
			}
		})
	}
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
