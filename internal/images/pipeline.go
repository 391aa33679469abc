// Package images builds every container image a kindlab cluster needs, from Debian
// packages and Go sources only, so that no registry is ever contacted: a kind node
// image with the control plane, etcd, CoreDNS, pause and a CNI preloaded, and the lab
// workload images (two nginx versions, echo-hostname, a debug image).
//
// The build is a list of named steps, each run once the steps it needs have finished,
// steps that use different resources side by side. Each step hashes its inputs into a key
// and records the key when it succeeds, so a second run with nothing changed skips
// every step. Intermediate artifacts live under the user's cache directory; outputs
// are first written beside their final place and renamed, so an interrupted build
// leaves nothing half-made behind.
package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	// keys of finished steps, by name, so later steps can depend on them. Only
	// Build's scheduling goroutine reads and writes it (keyOf).
	keys map[string]string
	// missing collects the names keyOf was asked for and did not have (a step
	// whose inputs name a step it does not come after; TestStepsComeAfterTheirInputs).
	missing []string
	// Facts found while building, used by later steps (those that come after the
	// step that finds them).
	kindDir      string
	kubeadmList  []string
	sandboxImage string
	storage      kindStorage
}

// resource is what a step mostly uses; Build runs steps of different resources
// side by side.
type resource int

const (
	// light steps (a module download, a list) take a slot of their own.
	light resource = iota
	// compile: Go builds, which use every core.
	compile
	// disk: Docker image builds, bound by the disk.
	disk
	// packages: debootstrap, bound by the network and the disk. Two at once raced
	// on the package cache they share (one validated a .deb the other was
	// rewriting) and failed a cold build.
	packages
)

// slots is how many steps of each resource run at once. Two compiles overlap one's
// module download and link with the other's compiling.
var slots = map[resource]int{light: 2, compile: 2, disk: 2, packages: 1}

// step is one unit of the build.
type step struct {
	name string
	// after names the steps whose outputs or facts this one uses; it starts once
	// they have finished.
	after []string
	// uses is the resource the step mostly uses.
	uses resource
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

// outcome is what a step's goroutine reports to Build.
type outcome struct {
	i       int
	skipped bool
	err     error
	elapsed time.Duration
}

// Build runs every step, each once the steps it comes after have finished, and
// steps that use different resources (or free slots of one) side by side, in the
// order they are listed when more are ready than there are slots. The first
// failure stops what is running and starts nothing more.
func (b *Builder) Build(ctx context.Context) error {
	if !strings.HasPrefix(b.opts.KubernetesVersion, "v") {
		return fmt.Errorf("kubernetes version %q: want a version such as %s", b.opts.KubernetesVersion, DefaultKubernetesVersion)
	}
	for _, d := range []string{"stamps", "tmp"} {
		if err := os.MkdirAll(b.dir(d), 0o755); err != nil {
			return err
		}
	}
	return b.runSteps(ctx, b.steps())
}

// runSteps runs steps as Build describes.
func (b *Builder) runSteps(ctx context.Context, steps []step) error {
	if err := checkOrder(steps); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var logMu sync.Mutex
	finished := map[string]bool{}
	started := make([]bool, len(steps))
	busy := map[resource]int{}
	results := make(chan outcome)
	running := 0
	var firstErr error
	for {
		// Start what is ready, in list order, while its resource has a free slot.
		for i, s := range steps {
			if started[i] || firstErr != nil || busy[s.uses] >= slots[s.uses] || !allDone(s.after, finished) {
				continue
			}
			started[i] = true
			busy[s.uses]++
			running++
			key := b.key(s)
			ev := Event{Step: s.name, Index: i + 1, Total: len(steps)}
			log := &prefixWriter{mu: &logMu, w: b.opts.Log, prefix: "[" + s.name + "] "}
			go func() {
				start := time.Now()
				sctx := runner.WithLog(ctx, log)
				if !b.opts.Force && !s.always && b.stamp(s.name) == key && (s.present == nil || s.present(sctx)) {
					results <- outcome{i: i, skipped: true}
					return
				}
				ev.State = Started
				b.opts.Progress(ev)
				fmt.Fprintf(log, "==> %s\n", s.name)
				err := s.build(sctx)
				if err == nil {
					err = b.setStamp(s.name, key)
				}
				log.Flush()
				results <- outcome{i: i, err: err, elapsed: time.Since(start)}
			}()
			b.keys[s.name] = key
		}
		if running == 0 {
			return firstErr
		}
		r := <-results
		running--
		s := steps[r.i]
		busy[s.uses]--
		ev := Event{Step: s.name, Index: r.i + 1, Total: len(steps), Elapsed: r.elapsed}
		switch {
		case r.skipped:
			ev.State = Skipped
		case r.err != nil:
			ev.State, ev.Err = Failed, r.err
			delete(b.keys, s.name)
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", s.name, r.err)
				cancel()
			}
		default:
			ev.State = Done
		}
		b.opts.Progress(ev)
		if r.err == nil {
			finished[s.name] = true
		}
	}
}

func allDone(names []string, finished map[string]bool) bool {
	for _, n := range names {
		if !finished[n] {
			return false
		}
	}
	return true
}

// checkOrder makes sure every step comes after steps that exist and are listed
// before it (so the build can never wait forever).
func checkOrder(steps []step) error {
	seen := map[string]bool{}
	for _, s := range steps {
		for _, a := range s.after {
			if !seen[a] {
				return fmt.Errorf("image build recipe: step %q comes after %q, which is not listed before it", s.name, a)
			}
		}
		seen[s.name] = true
	}
	return nil
}

// keyOf is the key of a finished step, for the inputs of a step after it.
func (b *Builder) keyOf(name string) string {
	k, ok := b.keys[name]
	if !ok {
		b.missing = append(b.missing, name)
	}
	return k
}

// prefixWriter writes whole lines, each with a prefix, so the log of steps that run
// side by side stays readable.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	part   []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.part = append(p.part, b...)
	for {
		i := bytes.IndexByte(p.part, '\n')
		if i < 0 {
			break
		}
		if _, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.part[:i]); err != nil {
			return len(b), err
		}
		p.part = p.part[i+1:]
	}
	return len(b), nil
}

// Flush writes what is left of an unfinished line.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.part) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.part)
		p.part = nil
	}
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
