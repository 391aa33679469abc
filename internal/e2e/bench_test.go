//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
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
// KINDLAB_BENCH_NODES=3 compares clusters of three nodes (kindlab --nodes 3, kind
// with the same nodes in its config) and reports each node container's memory
// once kindlab's cluster is Ready and idle (node-MiB-cp, node-MiB-worker).
func BenchmarkClusterCreate(b *testing.B) {
	bin := buildKindlab(b)
	nodes := 1
	if v, err := strconv.Atoi(os.Getenv("KINDLAB_BENCH_NODES")); err == nil && v > 1 {
		nodes = v
	}
	kindCfg := &v1alpha4.Cluster{Nodes: []v1alpha4.Node{{Role: v1alpha4.ControlPlaneRole}}}
	for i := 1; i < nodes; i++ {
		kindCfg.Nodes = append(kindCfg.Nodes, v1alpha4.Node{Role: v1alpha4.WorkerRole})
	}
	var cpMiB, workerMiB float64
	name := "kindlab-bench"
	provider := kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(log.NoopLogger{}))
	_ = provider.Delete(name, "")
	kubeconfig := filepath.Join(b.TempDir(), "kubeconfig")
	image := images.NodeImage(images.DefaultKubernetesVersion)

	var kl, bare, wait, del, hard time.Duration
	var rss int64
	kindlab := func() {
		d, r := runKindlab(b, bin, "cluster", "create", "--cluster", name, "--host-port", "0", "--kubeconfig", kubeconfig, "--nodes", strconv.Itoa(nodes))
		kl += d
		rss = max(rss, r)
		if cpMiB == 0 {
			time.Sleep(30 * time.Second) // idle: the add-ons have started
			cpMiB, workerMiB = nodeMemory(b, name)
		}
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
			err := provider.Create(name, kindcluster.CreateWithV1Alpha4Config(kindCfg.DeepCopy()), kindcluster.CreateWithNodeImage(image), kindcluster.CreateWithWaitForReady(w),
				kindcluster.CreateWithKubeconfigPath(kubeconfig), kindcluster.CreateWithDisplayUsage(false), kindcluster.CreateWithDisplaySalutation(false))
			*total += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
			// A node torn down while runc had a container's cgroup frozen cannot
			// be removed until it is thawed, which kind's delete does not do and
			// kindlab's does (thawNodes): kind's delete first, then kindlab's.
			if derr := provider.Delete(name, kubeconfig); derr != nil {
				b.Logf("kind's delete: %v; kindlab's delete", derr)
				runKindlab(b, bin, "cluster", "delete", "--cluster", name, "--kubeconfig", kubeconfig)
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
	if hard > 0 {
		b.ReportMetric(hard.Seconds()/n, "reset-hard-s")
		b.ReportMetric(hard.Seconds()/kl.Seconds(), "x-reset-create")
	}
	b.ReportMetric(float64(rss)/1024, "peak-RSS-MiB")
	b.ReportMetric(cpMiB, "node-MiB-cp")
	if nodes > 1 {
		b.ReportMetric(workerMiB, "node-MiB-worker")
	}
}

// nodeMemory is what `docker stats` says the cluster's control-plane node and,
// on average, each worker use.
func nodeMemory(b *testing.B, name string) (cp, worker float64) {
	b.Helper()
	out, err := exec.Command("docker", "stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}").Output()
	if err != nil {
		b.Fatal(err)
	}
	var workers []float64
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		n, usage, _ := strings.Cut(l, "\t")
		if !strings.HasPrefix(n, name+"-") {
			continue
		}
		used, _, _ := strings.Cut(usage, " / ")
		mib := parseMiB(used)
		if strings.HasSuffix(n, "-control-plane") {
			cp = mib
		} else {
			workers = append(workers, mib)
		}
	}
	for _, w := range workers {
		worker += w / float64(len(workers))
	}
	return cp, worker
}

// parseMiB reads docker's 575.7MiB or 1.2GiB.
func parseMiB(s string) float64 {
	for unit, f := range map[string]float64{"GiB": 1024, "MiB": 1, "KiB": 1.0 / 1024} {
		if v, ok := strings.CutSuffix(s, unit); ok {
			x, _ := strconv.ParseFloat(v, 64)
			return x * f
		}
	}
	return 0
}

// BenchmarkClusterDelete compares `kindlab cluster delete` with kind's own delete
// (the library's Delete, what `kind delete cluster` runs) of the same thing: a
// kindlab cluster, created (not timed) and Ready, deleted by each in turn. Most of
// either is the kernel tearing down the node's processes and pod network
// namespaces (`docker kill` of a Ready node: ~4 s here; a bare kind cluster
// deleted right after its create has fewer pods running and goes faster).
func BenchmarkClusterDelete(b *testing.B) {
	bin := buildKindlab(b)
	name := "kindlab-bench-delete"
	provider := kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(log.NoopLogger{}))
	_ = provider.Delete(name, "")
	kubeconfig := filepath.Join(b.TempDir(), "kubeconfig")
	var kl, kind time.Duration
	for i := 0; i < 2*b.N; i++ {
		runKindlab(b, bin, "cluster", "create", "--cluster", name, "--host-port", "0", "--kubeconfig", kubeconfig)
		if i%2 == 0 {
			d, _ := runKindlab(b, bin, "cluster", "delete", "--cluster", name, "--kubeconfig", kubeconfig)
			kl += d
			continue
		}
		start := time.Now()
		if err := provider.Delete(name, kubeconfig); err != nil {
			b.Fatal(err)
		}
		kind += time.Since(start)
	}
	b.ReportMetric(kl.Seconds()/float64(b.N), "kindlab-delete-s")
	b.ReportMetric(kind.Seconds()/float64(b.N), "kind-delete-s")
	b.ReportMetric(kl.Seconds()/kind.Seconds(), "x-kind")
}

// BenchmarkClusterRestart times what a machine restart costs a learner: the node
// container stopped (`docker stop`, as a shutdown does), then `kindlab up` until
// it says ready — the node started, the API server answering, the node and every
// system pod Ready by statuses written since. One cluster, b.N restarts; the
// learner's objects in it are checked by TestClusterServesEveryLabImage.
func BenchmarkClusterRestart(b *testing.B) {
	bin := buildKindlab(b)
	name := "kindlab-bench-restart"
	kubeconfig := filepath.Join(b.TempDir(), "kubeconfig")
	runKindlab(b, bin, "cluster", "create", "--cluster", name, "--host-port", "0", "--kubeconfig", kubeconfig)
	defer runKindlab(b, bin, "cluster", "delete", "--cluster", name, "--kubeconfig", kubeconfig)
	var stop, up time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if out, err := exec.Command("docker", "stop", name+"-control-plane").CombinedOutput(); err != nil {
			b.Fatalf("docker stop: %v %s", err, out)
		}
		stop += time.Since(start)
		d, _ := runKindlab(b, bin, "up", "--no-fix", "--cluster", name, "--host-port", "0")
		up += d
	}
	b.ReportMetric(stop.Seconds()/float64(b.N), "docker-stop-s")
	b.ReportMetric(up.Seconds()/float64(b.N), "stopped-to-ready-s")
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
