//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func memAvailableMiB(t *testing.T) int {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, _ := strconv.Atoi(f[1])
			return kb / 1024
		}
	}
	return -1
}

func loadAvg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// TestClassOfClusters makes a class with a kind cluster per learner, adding one
// learner at a time (each `class create --learners N` adds the missing one), and
// after each checks that every learner's cluster still answers (`class status`).
// Learner clusters get their own host port and MetalLB pool; a lab solved on the
// last one grades as passed there and nowhere else. KINDLAB_CAPACITY_MAX (default
// 2) sets how many: with a large value this is the capacity measurement in
// BENCHMARKS.md; it stops at the first cluster that cannot be created or when
// less than 1.5 GiB of memory is left. KINDLAB_CAPACITY_NODES (default 1) gives
// each learner's cluster that many nodes (class create --nodes).
func TestClassOfClusters(t *testing.T) {
	max := 2
	if v, err := strconv.Atoi(os.Getenv("KINDLAB_CAPACITY_MAX")); err == nil && v > 0 {
		max = v
	}
	nodes := 1
	if v, err := strconv.Atoi(os.Getenv("KINDLAB_CAPACITY_NODES")); err == nil && v > 0 {
		nodes = v
	}
	k := cli{t: t, bin: buildKindlab(t), state: t.TempDir()}
	t.Cleanup(func() {
		start := time.Now()
		if code, out, errOut := k.run("class", "delete"); code != 0 {
			t.Errorf("class delete: %d\n%s\n%s", code, out, errOut)
		}
		t.Logf("class delete: %s", time.Since(start).Round(100*time.Millisecond))
	})
	t.Logf("%-3s %-9s %-9s %-10s %-14s", "N", "create", "status", "MemAvail", "load 1/5/15")
	t.Logf("%-3d %-9s %-9s %-10s %-14s", 0, "-", "-", strconv.Itoa(memAvailableMiB(t))+"Mi", loadAvg())
	held := 0
	for n := 1; n <= max; n++ {
		start := time.Now()
		code, out, errOut := k.run("class", "create", "--learners", strconv.Itoa(n), "--prefix", "cap", "--nodes", strconv.Itoa(nodes))
		created := time.Since(start)
		if code != 0 {
			t.Logf("learner cluster %d could not be created (exit %d) after %s:\n%s\n%s", n, code, created.Round(time.Second), lastLine(out), errOut)
			if n <= 2 {
				t.Fatalf("a class of %d clusters failed", n)
			}
			break
		}
		start = time.Now()
		var cs classStatus
		if err := json.Unmarshal([]byte(k.must(0, "class", "status", "-o", "json")), &cs); err != nil {
			t.Fatal(err)
		}
		statusTook := time.Since(start)
		for _, r := range cs {
			if r.Error != "" {
				t.Errorf("with %d clusters, learner %s does not answer: %s", n, r.Learner, r.Error)
			}
		}
		mem := memAvailableMiB(t)
		t.Logf("%-3d %-9s %-9s %-10s %-14s", n, created.Round(100*time.Millisecond), statusTook.Round(100*time.Millisecond), strconv.Itoa(mem)+"Mi", loadAvg())
		if t.Failed() {
			break
		}
		held = n
		if mem < 1536 {
			t.Logf("stopping: less than 1.5 GiB of memory left")
			break
		}
	}
	t.Logf("held %d clusters of %d node(s) at once, every one answering", held, nodes)
	if held > 0 {
		idle := idleUse(t, "cap-")
		t.Logf("after 60 s idle: %s", idle)
	}

	// The last learner's cluster is a full lab cluster: a lab solved there passes
	// there, and the first learner's stays untouched.
	last := "cap-" + twoDigits(held)
	learner := cli{t: t, bin: k.bin, state: k.state, base: []string{"--cluster", last}}
	learner.must(0, "solve", "service-loadbalancer", "--all")
	learner.must(0, "grade", "service-loadbalancer", "--timeout", "1m")
	var cs classStatus
	json.Unmarshal([]byte(k.must(0, "class", "status", "-o", "json")), &cs)
	if d, _ := cs.done(last, "service-loadbalancer"); !d {
		t.Errorf("class status: %s solved service-loadbalancer, shown as not done", last)
	}
	if d, n := cs.done("cap-01", "service-loadbalancer"); d || n != 0 {
		t.Errorf("class status: cap-01 did nothing, shown done=%v passed=%d", d, n)
	}
}

// idleUse waits a minute, then sums what `docker stats` says the containers named
// prefix* use: CPU (percent of one core) and memory.
func idleUse(t *testing.T, prefix string) string {
	t.Helper()
	time.Sleep(60 * time.Second)
	out, err := exec.Command("docker", "stats", "--no-stream", "--format", "{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}").Output()
	if err != nil {
		return err.Error()
	}
	var cpu, mib float64
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		c, _ := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		used, _, _ := strings.Cut(f[2], " / ")
		cpu += c
		mib += parseMiB(used)
		n++
	}
	return fmt.Sprintf("%d node containers use %.0f%% of one core and %.0f MiB in all (load %s)", n, cpu, mib, loadAvg())
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
