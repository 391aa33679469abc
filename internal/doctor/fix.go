package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	wrapperPath      = "/usr/local/libexec/kindlab-runc"
	wrapperName      = "kindlab-runc"
	daemonConfigPath = "/etc/docker/daemon.json"
	dockerdLog       = "/var/log/kindlab-dockerd.log"
)

// Fix repairs what it can, in order, and says what it did on out. It is idempotent:
// on a machine where everything works it changes nothing.
func (d *Doctor) Fix(ctx context.Context, out io.Writer) error {
	var pkgs []string
	for bin, pkg := range map[string]string{"dockerd": "docker.io", "debootstrap": "debootstrap", "jq": "jq", "iptables": "iptables"} {
		if _, err := exec.LookPath(bin); err != nil {
			pkgs = append(pkgs, pkg)
		}
	}
	if len(pkgs) > 0 {
		if _, err := exec.LookPath("apt-get"); err != nil {
			return fmt.Errorf("missing %s and no apt-get here: install Docker from your distribution, then run kindlab doctor again", strings.Join(pkgs, ", "))
		}
		if err := needRoot("install " + strings.Join(pkgs, ", ")); err != nil {
			return err
		}
		fmt.Fprintf(out, "installing %s with apt-get ...\n", strings.Join(pkgs, " "))
		if err := d.Run.Run(ctx, "apt-get", "update", "-qq"); err != nil {
			return fmt.Errorf("apt-get update: %w", err)
		}
		args := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)
		if err := d.Run.Do(ctx, cmdWithEnv("apt-get", args, "DEBIAN_FRONTEND=noninteractive")); err != nil {
			return fmt.Errorf("apt-get install: %w", err)
		}
	}

	if !d.dockerAnswers(ctx) {
		if err := needRoot("start dockerd"); err != nil {
			return err
		}
		fmt.Fprintln(out, "starting dockerd ...")
		if err := d.startAndWait(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "docker daemon is running")
	// Only a warning when it fails: one cluster works without it.
	if err := d.fixInotify(ctx, out); err != nil {
		fmt.Fprintf(out, "could not raise the inotify limits (several clusters need them): %v\n", err)
	}

	probeErr := d.privilegedProbe(ctx)
	if probeErr == nil {
		fmt.Fprintln(out, "privileged containers work")
		return nil
	}
	missing := d.MissingCapabilities()
	if len(missing) == 0 {
		return fmt.Errorf("docker run --privileged fails and kindlab cannot tell why: %w", probeErr)
	}
	if err := needRoot("install a runtime wrapper"); err != nil {
		return err
	}
	if _, err := installWrapper(missing); err != nil {
		return err
	}
	fmt.Fprintf(out, "this machine lacks %s: installed %s as Docker's default runtime; restarting dockerd ...\n", strings.Join(missing, ", "), wrapperPath)
	if err := stopDockerd(ctx); err != nil {
		return err
	}
	if err := d.startAndWait(ctx); err != nil {
		return err
	}
	if err := d.privilegedProbe(ctx); err != nil {
		return fmt.Errorf("privileged containers still fail after installing the runtime wrapper: %w", err)
	}
	fmt.Fprintln(out, "privileged containers work")
	return nil
}

func (d *Doctor) startAndWait(ctx context.Context) error {
	if err := startDockerd(); err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	for !d.dockerAnswers(ctx) {
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd did not answer within 90s; see %s", dockerdLog)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

func (d *Doctor) dockerAnswers(ctx context.Context) bool {
	v, err := d.Run.Output(ctx, "docker", "version", "--format", "{{.Server.Version}}")
	return err == nil && v != ""
}

// wrapperScript drops the named capabilities from the OCI bundle (runc create/run)
// and from exec's process file (runc exec), then hands over to the real runc.
const wrapperScript = `#!/bin/sh
# Installed by "kindlab doctor --fix". This machine's capability bounding set lacks
# %[1]s, which Docker asks for in privileged containers, so runc fails with
# "unable to apply caps". Drop them from the container's spec, then run runc.
drop='%[2]s'
bundle= process= prev=
for a in "$@"; do
  case "$prev" in --bundle|-b) bundle=$a ;; --process|-p) process=$a ;; esac
  case "$a" in --bundle=*) bundle=${a#--bundle=} ;; --process=*) process=${a#--process=} ;; esac
  prev=$a
done
strip() { # $1 file, $2 path of the capabilities object
  [ -f "$1" ] || return 0
  jq --argjson drop "$drop" "if $2 then $2 |= map_values(if type == \"array\" then map(select(. as \$c | \$drop | index(\$c) | not)) else . end) else . end" "$1" >"$1.kindlab" && mv "$1.kindlab" "$1"
}
[ -z "$bundle" ] || strip "$bundle/config.json" .process.capabilities
[ -z "$process" ] || strip "$process" .capabilities
exec %[3]s "$@"
`

// installWrapper writes the wrapper and makes it Docker's default runtime. It reports
// whether anything changed.
func installWrapper(missing []string) (bool, error) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		runc = "/usr/sbin/runc"
	}
	dropJSON, _ := json.Marshal(missing)
	script := fmt.Sprintf(wrapperScript, strings.Join(missing, ", "), string(dropJSON), runc)
	changed, err := writeIfChanged(wrapperPath, []byte(script), 0o755)
	if err != nil {
		return false, fmt.Errorf("write runtime wrapper: %w", err)
	}

	cfg := map[string]any{}
	if b, err := os.ReadFile(daemonConfigPath); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			return false, fmt.Errorf("%s is not valid JSON (%v): fix or remove it, then run kindlab doctor --fix again", daemonConfigPath, err)
		}
	}
	runtimes, _ := cfg["runtimes"].(map[string]any)
	if runtimes == nil {
		runtimes = map[string]any{}
	}
	runtimes[wrapperName] = map[string]any{"path": wrapperPath}
	cfg["runtimes"] = runtimes
	cfg["default-runtime"] = wrapperName
	b, _ := json.MarshalIndent(cfg, "", "  ")
	c2, err := writeIfChanged(daemonConfigPath, append(b, '\n'), 0o644)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", daemonConfigPath, err)
	}
	return changed || c2, nil
}

func writeIfChanged(path string, data []byte, mode os.FileMode) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return false, nil
	}
	if err := os.MkdirAll(dirOf(path), 0o755); err != nil {
		return false, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, path)
}

func dirOf(p string) string { return p[:strings.LastIndex(p, "/")] }

func systemdRunning() bool {
	_, err := os.Stat("/run/systemd/system")
	return err == nil
}

func startDockerd() error {
	if systemdRunning() {
		return exec.Command("systemctl", "restart", "docker").Run()
	}
	log, err := os.OpenFile(dockerdLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command("dockerd")
	cmd.Stdout, cmd.Stderr = log, log
	// Its own session, so dockerd outlives this command and a Ctrl-C here.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start dockerd: %w", err)
	}
	// Reap it if it exits while this process still runs, so a stopped dockerd does
	// not linger as a zombie that still answers kill(pid, 0).
	go func() { _ = cmd.Wait() }()
	return nil
}

func stopDockerd(ctx context.Context) error {
	if systemdRunning() {
		return nil // systemctl restart does both
	}
	b, err := os.ReadFile("/var/run/docker.pid")
	if err != nil {
		return fmt.Errorf("dockerd runs but /var/run/docker.pid is unreadable (%v): stop dockerd, then run kindlab doctor --fix again", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("bad /var/run/docker.pid: %w", err)
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 120; i++ {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("dockerd (pid %d) did not stop within 30s", pid)
}

func needRoot(what string) error {
	if os.Geteuid() == 0 {
		return nil
	}
	return fmt.Errorf("kindlab doctor --fix needs root to %s: run sudo kindlab doctor --fix", what)
}
