//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNamespaceClassCapacity is the measurement in BENCHMARKS.md ("A namespace class
// of 30 learners"): KINDLAB_NS_CLASS_LEARNERS learners (the test is skipped when it
// is unset) in one cluster: class create, node memory, class status with nobody
// started and with ten learners' pods and helpers, class delete.
func TestNamespaceClassCapacity(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("KINDLAB_NS_CLASS_LEARNERS"))
	if err != nil || n < 1 {
		t.Skip("set KINDLAB_NS_CLASS_LEARNERS=30 to measure a namespace class")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	m := newManager(t)
	name := "kindlab-e2e-nsclass"
	createCluster(t, ctx, m, name, 0)
	k := cli{t: t, bin: buildKindlab(t), state: t.TempDir(), base: []string{"--cluster", name}}
	nodeMem := func() string {
		out, _ := exec.Command("docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", name+"-control-plane").Output()
		return strings.TrimSpace(string(out))
	}
	timed := func(args ...string) time.Duration {
		start := time.Now()
		k.must(0, args...)
		return time.Since(start)
	}
	t.Logf("before: MemAvailable %d MiB, node %s", memAvailableMiB(t), nodeMem())
	t.Logf("class create --learners %d --namespaces: %s", n, timed("class", "create", "--learners", strconv.Itoa(n), "--namespaces").Round(100*time.Millisecond))
	t.Logf("after create: MemAvailable %d MiB, node %s", memAvailableMiB(t), nodeMem())
	t.Logf("class status, nobody started: %s", timed("class", "status").Round(100*time.Millisecond))
	var wg sync.WaitGroup
	for i := 1; i <= min(n, 10); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := cli{t: t, bin: k.bin, state: k.state, base: []string{"--kubeconfig", filepath.Join(k.state, "class", fmt.Sprintf("student-%02d.kubeconfig", i))}}
			l.must(0, "solve", "pod", "--all")
		}()
	}
	wg.Wait()
	t.Logf("after %d learners solved the pod lab: MemAvailable %d MiB, node %s", min(n, 10), memAvailableMiB(t), nodeMem())
	t.Logf("class status: %s", timed("class", "status").Round(100*time.Millisecond))
	t.Logf("class delete: %s", timed("class", "delete").Round(100*time.Millisecond))
}
