// Package images builds every container image a kindlab cluster needs, from Debian
// packages and Go sources only, so that no registry is ever contacted: a kind node
// image with the control plane, etcd, CoreDNS, pause and a CNI preloaded, and the lab
// workload images (two nginx versions, echo-hostname, a debug image).
//
// The build is an ordered list of named steps. Each step hashes its inputs into a key
// and records the key when it succeeds, so a second run with nothing changed skips
// every step. Intermediate artifacts live under the user's cache directory; outputs
// are first written beside their final place and renamed, so an interrupted build
// leaves nothing half-made behind.
package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kindlab/kindlab/internal/atomicfile"
	"github.com/kindlab/kindlab/internal/runner"
)

// DefaultKubernetesVersion is the version built when none is asked for.
const DefaultKubernetesVersion = "v1.37.2"

// Event reports progress of one step.
type Event struct {
	Step    string
	Index   int // 1-based
	Total   int
	State   State
	Elapsed time.Duration
	Err     error
}

// State of a step.
type State int

const (
	Started State = iota
	Done
	Skipped
	Failed
)

// Options configure a build.
type Options struct {
	KubernetesVersion string
	// CacheDir holds sources, binaries, root filesystems and stamps.
	CacheDir string
	// Log receives the output of every command.
	Log io.Writer
	// Progress receives one event when a step starts and one when it ends.
	Progress func(Event)
	// Mirror is the Debian mirror for debootstrap; empty means the machine's own.
	Mirror string
	// Force rebuilds every step.
	Force bool
}

// Builder runs the build.
type Builder struct {
	opts Options
	run  runner.Runner
	// keys of finished steps, by name, so later steps can depend on them.
	keys map[string]string
	// Facts found while building, used by later steps.
	kindDir      string
	kubeadmList  []string
	sandboxImage string
	storage      kindStorage
}

// step is one unit of the build.
type step struct {
	name string
	// inputs returns what the step's output depends on, besides recipe.
	inputs func() []string
	// present reports whether the outputs exist (so a deleted image is rebuilt).
	present func(ctx context.Context) bool
	// build makes the outputs.
	build func(ctx context.Context) error
	// always runs even when the key matches (cheap steps that learn facts).
	always bool
}

// New returns a Builder.
func New(opts Options) *Builder {
	if opts.KubernetesVersion == "" {
		opts.KubernetesVersion = DefaultKubernetesVersion
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Progress == nil {
		opts.Progress = func(Event) {}
	}
	return &Builder{
		opts: opts,
		run:  runner.Runner{Log: opts.Log, Env: []string{"DOCKER_BUILDKIT=0"}},
		keys: map[string]string{},
	}
}

// Build runs every step in order.
func (b *Builder) Build(ctx context.Context) error {
	if !strings.HasPrefix(b.opts.KubernetesVersion, "v") {
		return fmt.Errorf("kubernetes version %q: want a version such as %s", b.opts.KubernetesVersion, DefaultKubernetesVersion)
	}
	if err := os.MkdirAll(b.dir("stamps"), 0o755); err != nil {
		return err
	}
	steps := b.steps()
	for i, s := range steps {
		key := b.key(s)
		ev := Event{Step: s.name, Index: i + 1, Total: len(steps)}
		start := time.Now()
		if !b.opts.Force && !s.always && b.stamp(s.name) == key && (s.present == nil || s.present(ctx)) {
			b.keys[s.name] = key
			ev.State = Skipped
			b.opts.Progress(ev)
			continue
		}
		ev.State = Started
		b.opts.Progress(ev)
		fmt.Fprintf(b.opts.Log, "==> %s\n", s.name)
		err := s.build(ctx)
		ev.Elapsed = time.Since(start)
		if err != nil {
			ev.State, ev.Err = Failed, err
			b.opts.Progress(ev)
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := b.setStamp(s.name, key); err != nil {
			return err
		}
		b.keys[s.name] = key
		ev.State = Done
		b.opts.Progress(ev)
	}
	return nil
}

func (b *Builder) key(s step) string {
	h := sha256.New()
	fmt.Fprintln(h, recipeVersion, s.name, b.opts.KubernetesVersion)
	if s.inputs != nil {
		for _, in := range s.inputs() {
			fmt.Fprintln(h, in)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// recipeVersion changes whenever a step's recipe changes in a way its inputs miss.
const recipeVersion = "kindlab-images-1"

func (b *Builder) dir(parts ...string) string {
	return filepath.Join(append([]string{b.opts.CacheDir}, parts...)...)
}

func (b *Builder) stamp(name string) string {
	v, err := os.ReadFile(b.dir("stamps", stampFile(name)))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(v))
}

func (b *Builder) setStamp(name, key string) error {
	return writeFileAtomic(b.dir("stamps", stampFile(name)), []byte(key+"\n"), 0o644)
}

func stampFile(name string) string { return strings.ReplaceAll(name, " ", "-") }

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, data, mode)
}

func exists(paths ...string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}
