package learn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

// fakeEngine records what the rules asked of it; its solution records an answer.
type fakeEngine struct {
	mu       sync.Mutex
	given    map[string]string // the answers Solve was given
	solveErr error
	setups   []string
	resets   []string
}

func (f *fakeEngine) Setup(_ context.Context, l *lab.Lab, st *lab.Step) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setups = append(f.setups, l.ID+"/"+st.ID)
	return nil
}

func (f *fakeEngine) Solve(_ context.Context, _ *lab.Lab, st *lab.Step, answers map[string]string, _ time.Duration) ([]check.Result, map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.given = maps.Clone(answers)
	got := maps.Clone(answers)
	if f.solveErr != nil {
		return []check.Result{{Check: "q", Status: check.Fail}}, got, f.solveErr
	}
	if got == nil {
		got = map[string]string{}
	}
	got["solved-"+st.ID] = "truth"
	return []check.Result{{Check: "q", Status: check.Pass}}, got, nil
}

func (f *fakeEngine) Reset(_ context.Context, l *lab.Lab) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets = append(f.resets, l.ID)
	return nil
}

func testLab(hints int) *lab.Lab {
	st := lab.Step{ID: "s1", Checks: []lab.Check{{ID: "q", Answer: &lab.AnswerCheck{Truth: "podIP", Object: "p"}}}}
	for i := range hints {
		st.Hints = append(st.Hints, lab.Text{En: fmt.Sprint("hint ", i), Ko: fmt.Sprint("힌트 ", i)})
	}
	return &lab.Lab{ID: "l", Steps: []lab.Step{st, {ID: "s2"}}}
}

// Hints from several commands and a UI at once (each with its own store on the
// same file, as separate processes have) all count: none is lost to a snapshot.
func TestHintsAtOnceAllCount(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := testLab(100)
	var wg sync.WaitGroup
	for p := range 4 {
		w := Learner{Store: progress.Open(dir, "c")}
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := w.Hint(l, &l.Steps[0]); err != nil {
					t.Errorf("process %d: %v", p, err)
				}
			}()
		}
	}
	wg.Wait()
	pf, err := progress.Open(dir, "c").Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := HintsSeen(pf.Labs["l"], &l.Steps[0]); got != 40 {
		t.Errorf("hints seen = %d after 40 at once, want 40", got)
	}
}

func TestHintsStopAtTheLast(t *testing.T) {
	t.Parallel()
	w := Learner{Store: progress.Open(t.TempDir(), "c")}
	l := testLab(2)
	for i, want := range []struct {
		idx  int
		last bool
	}{{0, false}, {1, true}, {1, true}} {
		idx, last, err := w.Hint(l, &l.Steps[0])
		if err != nil || idx != want.idx || last != want.last {
			t.Errorf("hint call %d: %d %v %v, want %d %v", i+1, idx, last, err, want.idx, want.last)
		}
	}
	if _, _, err := w.Hint(l, &l.Steps[1]); err == nil {
		t.Error("a step with no hints gave one")
	}
}

func TestAnswer(t *testing.T) {
	t.Parallel()
	w := Learner{Store: progress.Open(t.TempDir(), "c")}
	l := testLab(1)
	if id, err := w.Answer(l, &l.Steps[0], "  10.244.0.5 \n"); err != nil || id != "q" {
		t.Fatalf("answer: %q %v", id, err)
	}
	if a, _ := w.Answers("l"); a["q"] != "10.244.0.5" {
		t.Errorf("answers = %v, want the trimmed value", a)
	}
	if _, err := w.Answer(l, &l.Steps[1], "x"); !errors.Is(err, ErrNoQuestion) {
		t.Errorf("a step with no question: %v", err)
	}
}

// A solution runs with the learner's stored answers; once it passes, the step is
// done and the answers it recorded join the stored ones. A failed one changes nothing.
func TestSolveKeepsAnswersAndMarksDone(t *testing.T) {
	t.Parallel()
	eng := &fakeEngine{}
	w := Learner{Store: progress.Open(t.TempDir(), "c"), Eng: eng}
	l := testLab(1)
	if _, err := w.Answer(l, &l.Steps[0], "mine"); err != nil {
		t.Fatal(err)
	}
	eng.solveErr = errors.New("checks did not pass")
	if _, err := w.Solve(context.Background(), l, &l.Steps[0], time.Second); err == nil {
		t.Fatal("a failed solution said nothing")
	}
	if pf, _ := w.Store.Load(); pf.Labs["l"].IsDone("s1") {
		t.Error("a failed solution marked the step done")
	}
	eng.solveErr = nil
	if _, err := w.Solve(context.Background(), l, &l.Steps[0], time.Second); err != nil {
		t.Fatal(err)
	}
	if eng.given["q"] != "mine" {
		t.Errorf("the solution ran with answers %v, want the learner's", eng.given)
	}
	pf, _ := w.Store.Load()
	lp := pf.Labs["l"]
	if !lp.IsDone("s1") || lp.Answers["q"] != "mine" || lp.Answers["solved-s1"] != "truth" {
		t.Errorf("after solving: %+v", lp)
	}
}

func TestResetForgetsAndStartBeginsAgain(t *testing.T) {
	t.Parallel()
	eng := &fakeEngine{}
	w := Learner{Store: progress.Open(t.TempDir(), "c"), Eng: eng}
	l := testLab(2)
	w.Answer(l, &l.Steps[0], "old")
	w.Hint(l, &l.Steps[0])
	if err := w.Reset(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	if pf, _ := w.Store.Load(); pf.Labs["l"] != nil {
		t.Errorf("progress after reset: %+v", pf.Labs["l"])
	}
	if len(eng.resets) != 1 {
		t.Errorf("engine after reset: resets %v", eng.resets)
	}
	if err := w.Start(context.Background(), l, true); err != nil {
		t.Fatal(err)
	}
	if pf, _ := w.Store.Load(); pf.Labs["l"].Current != "s1" || len(eng.setups) != 1 {
		t.Errorf("start: current %q, setups %v", pf.Labs["l"].Current, eng.setups)
	}
}
