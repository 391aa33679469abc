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
	"testing"
	"time"

	"github.com/kindlab/kindlab/internal/images"
)

// tmuxSession drives the real binary in a detached tmux session of a fixed size.
type tmuxSession struct {
	t    *testing.T
	name string
}

func (s tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", args...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", s.name+":0.0") }

func (s tmuxSession) keys(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", s.name + ":0.0"}, keys...)...)
}

// waitFor polls the screen until it contains every want; it returns how long
// that took.
func (s tmuxSession) waitFor(timeout time.Duration, want ...string) time.Duration {
	s.t.Helper()
	start := time.Now()
	var screen string
	for time.Since(start) < timeout {
		screen = s.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		if ok {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("after %s the screen does not show %q:\n%s", timeout, want, screen)
	return 0
}

func rssKiB(pid int) int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// TestUIInTmux runs plain `kindlab` (the main job) in tmux against a real
// cluster: the start-up screen reuses the cluster and gives way to the lab list;
// the learner opens the pod lab, applies its manifest with kubectl from a second
// pane, and the checks turn to pass on the captured screen without a key press;
// h shows a hint; q quits. It logs the time from kubectl to the verdict on the
// screen and kindlab's memory.
func TestUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed (make test-e2e installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	m := newManager(t)
	name := "kindlab-e2e-tui"
	createCluster(t, ctx, m, name, freePort(t))
	bin := buildKindlab(t)
	home, state := t.TempDir(), t.TempDir()
	kcPath := filepath.Join(state, "kubeconfig")
	kc, err := m.Kubeconfig(name)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(kcPath, []byte(kc), 0o600)
	kubectl := filepath.Join(cacheDir(), "bin", images.DefaultKubernetesVersion, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		kubectl = "kubectl"
	}

	s := tmuxSession{t: t, name: "kindlab-e2e-" + strconv.Itoa(os.Getpid())}
	env := fmt.Sprintf("env HOME=%s KINDLAB_STATE_DIR=%s KINDLAB_CACHE_DIR=%s LANG=en_US.UTF-8 TERM=xterm-256color", home, state, cacheDir())
	s.tmux("new-session", "-d", "-s", s.name, "-x", "110", "-y", "32", env+" "+bin+" --cluster "+name+"; sleep 30")
	t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", s.name).Run() })
	shell, _ := strconv.Atoi(strings.TrimSpace(s.tmux("list-panes", "-t", s.name+":0", "-F", "#{pane_pid}")))

	// The start-up screen: the machine is checked, the cluster reused, then the labs.
	s.waitFor(time.Minute, "getting the lab cluster ready")
	t.Logf("start-up screen:\n%s", s.screen())
	took := s.waitFor(3*time.Minute, "Chapter progress")
	// The pane runs sh -c "env ... kindlab ...; sleep": kindlab is its child.
	children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", shell, shell))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(children)))
	t.Logf("start-up screen to lab list (cluster reused): %s", took.Round(100*time.Millisecond))
	t.Logf("lab list:\n%s", s.screen())

	// The chapter opens with the components lab; the pod lab is the next one.
	s.keys("j")
	s.waitFor(10*time.Second, "›○ pod")
	s.keys("Enter")
	s.waitFor(time.Minute, "Create the nginx pod", "0/3 pass")
	before := s.screen()
	t.Logf("step screen before kubectl:\n%s", before)

	// A second pane, where the learner types the book's command.
	manifest := filepath.Join(home, "kindlab", "pod", "nginx-pod.yaml")
	if _, err := os.Stat(manifest); err != nil {
		t.Fatalf("the UI did not write the lab's manifest: %v", err)
	}
	s.tmux("split-window", "-d", "-t", s.name+":0", "-v", "-l", "5", fmt.Sprintf("%s --kubeconfig %s apply -f %s; sleep 60", kubectl, kcPath, manifest))
	applied := time.Now()
	onScreen := s.waitFor(2*time.Minute, "3/3 pass")
	t.Logf("kubectl apply → 3/3 pass on screen: %s (pod start included)", onScreen.Round(10*time.Millisecond))
	s.waitFor(10*time.Second, "Step done")
	t.Logf("step screen after kubectl (%s):\n%s", time.Since(applied).Round(100*time.Millisecond), s.screen())

	// Deleting the pod is seen too, with no key pressed.
	deleted := time.Now()
	exec.Command(kubectl, "--kubeconfig", kcPath, "delete", "pod", "my-nginx-pod", "--wait=false").Run()
	s.waitFor(time.Minute, "0/3 pass")
	t.Logf("kubectl delete → 0/3 pass on screen: %s (kubectl's own run included)", time.Since(deleted).Round(10*time.Millisecond))

	s.keys("h")
	s.waitFor(10*time.Second, "Hint 1/")
	t.Logf("after h:\n%s", s.screen())
	if rss := rssKiB(pid); rss > 0 {
		t.Logf("kindlab RSS while the UI runs: %.1f MiB", float64(rss)/1024)
	}

	// The cluster recreated in another terminal has a new address and new
	// credentials: the UI reconnects by itself and its checks see the new cluster.
	recreated := time.Now()
	up := exec.CommandContext(ctx, bin, "--cluster", name, "up", "--recreate", "--no-fix", "--host-port", strconv.Itoa(freePort(t)))
	up.Env = append(os.Environ(), "HOME="+home, "KINDLAB_STATE_DIR="+state, "KINDLAB_CACHE_DIR="+cacheDir())
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("kindlab up --recreate: %v\n%s", err, out)
	}
	t.Logf("recreated in another terminal in %s", time.Since(recreated).Round(100*time.Millisecond))
	if kc, err = m.Kubeconfig(name); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(kcPath, []byte(kc), 0o600)
	if out, err := exec.Command(kubectl, "--kubeconfig", kcPath, "apply", "-f", manifest).CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply on the new cluster: %v %s", err, out)
	}
	reconnected := s.waitFor(2*time.Minute, "3/3 pass")
	t.Logf("after the recreate, kubectl apply → 3/3 pass on screen: %s (reconnect and pod start included)\n%s", reconnected.Round(100*time.Millisecond), s.screen())

	s.keys("q")
	running := func() bool {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		return err == nil && strings.Contains(string(comm), "kindlab")
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && running() {
		time.Sleep(100 * time.Millisecond)
	}
	if running() {
		t.Errorf("kindlab still runs 10 s after q")
	}
}
