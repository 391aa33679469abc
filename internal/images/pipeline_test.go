package images

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStepsComeAfterTheirInputs: a step whose key uses another step's key (or a fact
// another step finds) must come after it, or a build running steps side by side
// could hash a key that is not there yet. Each step's inputs are computed with only
// the keys of the steps it comes after, directly or not.
func TestStepsComeAfterTheirInputs(t *testing.T) {
	t.Parallel()
	b := New(Options{CacheDir: t.TempDir()})
	steps := b.steps()
	if err := checkOrder(steps); err != nil {
		t.Fatal(err)
	}
	after := map[string][]string{}
	for _, s := range steps {
		after[s.name] = s.after
	}
	var closure func(string, map[string]bool)
	closure = func(n string, seen map[string]bool) {
		for _, a := range after[n] {
			if !seen[a] {
				seen[a] = true
				closure(a, seen)
			}
		}
	}
	for _, s := range steps {
		if s.inputs == nil {
			continue
		}
		seen := map[string]bool{}
		closure(s.name, seen)
		b.keys = map[string]string{}
		for n := range seen {
			b.keys[n] = "k"
		}
		b.missing = nil
		s.inputs()
		if len(b.missing) > 0 {
			t.Errorf("step %q uses the key of %v but does not come after it", s.name, b.missing)
		}
	}
}

func TestCheckOrderRefusesAStepAfterALaterOne(t *testing.T) {
	t.Parallel()
	err := checkOrder([]step{{name: "a", after: []string{"b"}}, {name: "b"}})
	if err == nil || !strings.Contains(err.Error(), `"a" comes after "b"`) {
		t.Fatalf("got %v", err)
	}
}

// recorder notes when fake steps start and end.
type recorder struct {
	mu     sync.Mutex
	events []string
	now    map[resource]int
	most   map[resource]int
}

func (r *recorder) step(name string, uses resource, after []string, d time.Duration, err error) step {
	return step{name: name, uses: uses, after: after, build: func(ctx context.Context) error {
		r.mu.Lock()
		r.events = append(r.events, "start "+name)
		r.now[uses]++
		r.most[uses] = max(r.most[uses], r.now[uses])
		r.mu.Unlock()
		select {
		case <-time.After(d):
		case <-ctx.Done():
			err = ctx.Err()
			r.mu.Lock()
			r.events = append(r.events, "cancelled "+name)
			r.mu.Unlock()
		}
		r.mu.Lock()
		r.events = append(r.events, "end "+name)
		r.now[uses]--
		r.mu.Unlock()
		return err
	}}
}

func TestStepsRunSideBySideAndInOrder(t *testing.T) {
	t.Parallel()
	r := &recorder{now: map[resource]int{}, most: map[resource]int{}}
	steps := []step{
		r.step("c1", compile, nil, 30*time.Millisecond, nil),
		r.step("c2", compile, nil, 30*time.Millisecond, nil),
		r.step("c3", compile, nil, 30*time.Millisecond, nil),
		r.step("d1", disk, nil, 30*time.Millisecond, nil),
		r.step("d2", disk, []string{"c1", "d1"}, 10*time.Millisecond, nil),
	}
	var mu sync.Mutex
	var states []string
	b := New(Options{CacheDir: t.TempDir(), Progress: func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		states = append(states, e.Step+" "+[]string{"started", "done", "skipped", "failed"}[e.State])
	}})
	if err := b.runSteps(context.Background(), steps); err != nil {
		t.Fatal(err)
	}
	if r.most[compile] != slots[compile] {
		t.Errorf("at most %d compiles ran at once, want %d", r.most[compile], slots[compile])
	}
	idx := func(e string) int { return slices.Index(r.events, e) }
	if idx("start d1") > idx("end c1") {
		t.Errorf("a disk step waited for a compile: %v", r.events)
	}
	if idx("start d2") < idx("end c1") || idx("start d2") < idx("end d1") {
		t.Errorf("d2 started before what it comes after: %v", r.events)
	}
	if idx("start c3") < idx("end c1") && idx("start c3") < idx("end c2") {
		t.Errorf("a third compile started while two ran: %v", r.events)
	}
	if len(states) != 10 {
		t.Errorf("progress: %v", states)
	}
	// A second build with nothing changed skips every step, and starts none.
	r.events = nil
	states = nil
	if err := New(Options{CacheDir: b.opts.CacheDir, Progress: b.opts.Progress}).runSteps(context.Background(), steps); err != nil {
		t.Fatal(err)
	}
	if len(r.events) != 0 {
		t.Errorf("a warm build ran steps: %v", r.events)
	}
}

func TestAFailedStepStopsTheBuild(t *testing.T) {
	t.Parallel()
	r := &recorder{now: map[resource]int{}, most: map[resource]int{}}
	boom := errors.New("boom")
	steps := []step{
		r.step("slow", compile, nil, 10*time.Second, nil),
		r.step("bad", disk, nil, 10*time.Millisecond, boom),
		r.step("later", disk, []string{"bad"}, 0, nil),
	}
	err := New(Options{CacheDir: t.TempDir()}).runSteps(context.Background(), steps)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "bad: ") {
		t.Fatalf("got %v", err)
	}
	if slices.Contains(r.events, "start later") {
		t.Errorf("a step after the failed one ran: %v", r.events)
	}
	if !slices.Contains(r.events, "end slow") {
		t.Errorf("the build returned before the running step stopped: %v", r.events)
	}
	if !slices.Contains(r.events, "cancelled slow") {
		t.Errorf("the running step was not stopped: %v", r.events)
	}
}

// TestDebootstrapsRunOneAtATime: the two root file systems share debootstrap's
// package cache, and two debootstraps at once broke each other's downloads.
func TestDebootstrapsRunOneAtATime(t *testing.T) {
	t.Parallel()
	if slots[packages] != 1 {
		t.Errorf("%d debootstraps may run at once", slots[packages])
	}
	for _, s := range New(Options{CacheDir: t.TempDir()}).steps() {
		if strings.HasSuffix(s.name, "rootfs") && s.uses != packages {
			t.Errorf("step %q runs debootstrap but does not use the package cache's slot", s.name)
		}
	}
}
