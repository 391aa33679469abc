// Package doctor finds out whether this machine can run a kindlab cluster and build
// its images, says what to do about each problem, and (with Fix) repairs what it can:
// it installs Debian's docker.io, starts dockerd, and installs a runtime wrapper where
// privileged containers fail because the machine lacks a capability.
package doctor

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/kindlab/kindlab/internal/runner"
)

// Severity says what a finding blocks.
type Severity int

const (
	OK Severity = iota
	// Warn blocks nothing a cluster needs, but something else (an image build).
	Warn
	// Fail means a cluster cannot be created until it is fixed.
	Fail
)

func (s Severity) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	default:
		return "FAIL"
	}
}

// Finding is the result of one check.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"-"`
	Status   string   `json:"status"`
	Detail   string   `json:"detail"`
	// Fix is a command or action that repairs the problem, if any.
	Fix string `json:"fix,omitempty"`
}

// Report is every finding of one run.
type Report struct {
	Findings []Finding `json:"findings"`
}

// CanCreateCluster is true when no finding fails.
func (r Report) CanCreateCluster() bool {
	for _, f := range r.Findings {
		if f.Severity == Fail {
			return false
		}
	}
	return true
}

// Print writes the report for a person.
func (r Report) Print(w io.Writer) {
	for _, f := range r.Findings {
		mark := map[Severity]string{OK: "✓", Warn: "!", Fail: "✗"}[f.Severity]
		fmt.Fprintf(w, "%s %-22s %s\n", mark, f.Check, f.Detail)
		if f.Severity != OK && f.Fix != "" {
			fmt.Fprintf(w, "  %-22s fix: %s\n", "", f.Fix)
		}
	}
}

// Doctor runs the checks. Its fields are the machine facts, replaceable in tests.
type Doctor struct {
	Run runner.Runner
	// CacheDir is where image builds write; its free space is checked.
	CacheDir string
	// ProcStatus is the content of /proc/self/status; read from the system if empty.
	ProcStatus string
	// CapLastCap is /proc/sys/kernel/cap_last_cap; read from the system if negative.
	CapLastCap int
	// SysctlDir is /proc/sys, replaceable in tests.
	SysctlDir string
}

// New returns a Doctor reading the real machine.
func New(log io.Writer, cacheDir string) *Doctor {
	return &Doctor{Run: runner.Runner{Log: log}, CacheDir: cacheDir, CapLastCap: -1}
}

// Check runs every check and returns the findings.
func (d *Doctor) Check(ctx context.Context) Report {
	var r Report
	add := func(f Finding) { r.Findings = append(r.Findings, f) }

	dockerOK := d.checkDockerCLI(add)
	if dockerOK {
		dockerOK = d.checkDaemon(ctx, add)
	}
	if dockerOK {
		d.checkPrivileged(ctx, add)
	}
	add(d.checkCgroup())
	add(d.checkDisk())
	add(d.checkInotify())
	add(d.checkTool("go", "Go toolchain", "needed by `kindlab images build`; install Go 1.26 or newer from go.dev/dl"))
	add(d.checkTool("debootstrap", "debootstrap", "apt-get install -y debootstrap   (or: kindlab doctor --fix)"))
	if os.Geteuid() != 0 {
		add(Finding{Check: "root", Severity: Warn, Status: "warn",
			Detail: "`kindlab images build` runs debootstrap and needs root",
			Fix:    "run `sudo kindlab images build` once"})
	}
	return r
}

func (d *Doctor) checkDockerCLI(add func(Finding)) bool {
	if _, err := exec.LookPath("docker"); err != nil {
		add(Finding{Check: "docker installed", Severity: Fail, Status: "fail",
			Detail: "the docker command is not on PATH",
			Fix:    "kindlab doctor --fix   (installs Debian's docker.io)"})
		return false
	}
	add(Finding{Check: "docker installed", Status: "ok", Detail: "docker is on PATH"})
	return true
}

func (d *Doctor) checkDaemon(ctx context.Context, add func(Finding)) bool {
	v, err := d.Run.Output(ctx, "docker", "version", "--format", "{{.Server.Version}}")
	if err != nil || v == "" {
		add(Finding{Check: "docker daemon", Severity: Fail, Status: "fail",
			Detail: "the Docker daemon does not answer",
			Fix:    "kindlab doctor --fix   (starts dockerd), or: sudo systemctl start docker"})
		return false
	}
	add(Finding{Check: "docker daemon", Status: "ok", Detail: "Docker " + v + " answers"})
	return true
}

// checkPrivileged reports whether `docker run --privileged` gets past capability
// set-up. It needs no image from a registry: the container is made from an empty
// archive and asked to run a program that does not exist, so the only question is
// which error comes back.
func (d *Doctor) checkPrivileged(ctx context.Context, add func(Finding)) {
	missing := d.MissingCapabilities()
	err := d.privilegedProbe(ctx)
	switch {
	case err == nil:
		add(Finding{Check: "privileged containers", Status: "ok", Detail: "docker run --privileged works"})
	case strings.Contains(err.Error(), "apply caps") || strings.Contains(err.Error(), "operation not permitted"):
		detail := "docker run --privileged fails: " + firstLine(err.Error())
		if len(missing) > 0 {
			detail += " (this machine lacks " + strings.Join(missing, ", ") + ")"
		}
		add(Finding{Check: "privileged containers", Severity: Fail, Status: "fail", Detail: detail,
			Fix: "kindlab doctor --fix   (installs a runtime wrapper that drops the missing capabilities)"})
	default:
		add(Finding{Check: "privileged containers", Severity: Fail, Status: "fail",
			Detail: "could not test docker run --privileged: " + firstLine(err.Error()),
			Fix:    "check `docker info` and the daemon's log"})
	}
}

const probeImage = "kindlab/privileged-probe:empty"

func (d *Doctor) privilegedProbe(ctx context.Context) error {
	if _, err := d.Run.Output(ctx, "docker", "image", "inspect", probeImage); err != nil {
		// An archive with one empty directory is a valid root filesystem.
		if err := d.Run.Do(ctx, runner.Cmd{Name: "docker", Args: []string{"import", "-", probeImage},
			Stdin: strings.NewReader(emptyTar())}); err != nil {
			return err
		}
	}
	err := d.Run.Run(ctx, "docker", "run", "--rm", "--privileged", "--network=none", probeImage, "/kindlab-probe")
	if err == nil {
		return nil
	}
	msg := err.Error()
	// The runtime got as far as exec: capabilities were applied.
	if strings.Contains(msg, "no such file") || strings.Contains(msg, "not found") {
		return nil
	}
	return err
}

// emptyTar is a tar archive holding a single directory entry "tmp/".
func emptyTar() string {
	hdr := make([]byte, 512)
	copy(hdr[0:], "tmp/")
	copy(hdr[100:], "0000755\x00")
	copy(hdr[108:], "0000000\x00")
	copy(hdr[116:], "0000000\x00")
	copy(hdr[124:], "00000000000\x00")
	copy(hdr[136:], "00000000000\x00")
	hdr[156] = '5'
	copy(hdr[257:], "ustar\x0000")
	for i := 148; i < 156; i++ {
		hdr[i] = ' '
	}
	sum := 0
	for _, b := range hdr {
		sum += int(b)
	}
	copy(hdr[148:], fmt.Sprintf("%06o\x00 ", sum))
	return string(hdr) + strings.Repeat("\x00", 1024)
}

func (d *Doctor) checkCgroup() Finding {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return Finding{Check: "cgroup", Status: "ok", Detail: "cgroup v2"}
	}
	return Finding{Check: "cgroup", Status: "ok",
		Detail: "cgroup v1: kindlab's node image starts kubelet with --fail-cgroupv1=false"}
}

func (d *Doctor) checkDisk() Finding {
	dir := d.CacheDir
	for dir != "/" && dir != "" {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		dir = parent(dir)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return Finding{Check: "free disk", Severity: Warn, Status: "warn", Detail: "cannot read free space of " + dir + ": " + err.Error()}
	}
	free := float64(st.Bavail) * float64(st.Bsize) / (1 << 30)
	f := Finding{Check: "free disk", Status: "ok", Detail: fmt.Sprintf("%.0f GiB free under %s", free, dir)}
	switch {
	case free < 3:
		f.Severity, f.Status = Fail, "fail"
		f.Detail += "; a cluster needs about 3 GiB"
		f.Fix = "free some space (docker system prune, go clean -cache)"
	case free < 15:
		f.Severity, f.Status = Warn, "warn"
		f.Detail += "; building the images needs about 15 GiB (Go build cache and images)"
		f.Fix = "free some space before `kindlab images build`"
	}
	return f
}

func (d *Doctor) checkTool(name, label, fix string) Finding {
	p, err := exec.LookPath(name)
	if err != nil {
		return Finding{Check: label, Severity: Warn, Status: "warn", Detail: name + " is not on PATH", Fix: fix}
	}
	return Finding{Check: label, Status: "ok", Detail: p}
}

func parent(p string) string {
	i := strings.LastIndex(strings.TrimRight(p, "/"), "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
