// Package learn holds the learner's rules, once, for the command line and the lab
// UI: what starting a lab, a hint, an answer, a solution and a reset do to the
// cluster and to the progress file. kindlab's commands and screens only turn
// input into these calls and their results into output (as kind's commands do
// with its cluster package). Every change to the progress file is made under
// its lock from what is stored, never from a snapshot, so a command and the UI
// at the same time lose nothing.
package learn

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

// Engine is what the rules need of a lab session; *engine.Session is the real one.
type Engine interface {
	Setup(ctx context.Context, l *lab.Lab, st *lab.Step) error
	// Solve is given the learner's answers and returns them with those the
	// solution recorded: a session keeps no answers of its own.
	Solve(ctx context.Context, l *lab.Lab, st *lab.Step, answers map[string]string, timeout time.Duration) ([]check.Result, map[string]string, error)
	Reset(ctx context.Context, l *lab.Lab) error
}

// ErrNoQuestion is Answer's error for a step that asks nothing.
var ErrNoQuestion = errors.New("the step asks no question")

// Learner applies the rules to one learner's progress and, for what touches the
// cluster, their session (Eng may be nil for hints and answers).
type Learner struct {
	Store *progress.Store
	Eng   Engine
}

// Start begins lab l: with setup, its first step's setup runs (`kindlab start`
// always, the UI for a lab never opened); the first step becomes current.
func (w Learner) Start(ctx context.Context, l *lab.Lab, setup bool) error {
	var err error
	if setup {
		err = w.Eng.Setup(ctx, l, &l.Steps[0])
	}
	return errors.Join(err, w.SetCurrent(l, l.Steps[0].ID))
}

// SetCurrent records the step the learner is on.
func (w Learner) SetCurrent(l *lab.Lab, stepID string) error {
	return w.Store.Update(l.ID, func(lp *progress.LabProgress) { lp.Current = stepID })
}

// Hint counts the next hint of st as seen and returns its index; once every hint
// was seen it returns the last one again, and last is true for it.
func (w Learner) Hint(l *lab.Lab, st *lab.Step) (idx int, last bool, err error) {
	total := len(st.Hints)
	if total == 0 {
		return 0, true, fmt.Errorf("step %s/%s has no hints", l.ID, st.ID)
	}
	err = w.Store.Update(l.ID, func(lp *progress.LabProgress) {
		if lp.Hints == nil {
			lp.Hints = map[string]int{}
		}
		seen := min(max(lp.Hints[st.ID], 0), total)
		idx = min(seen, total-1)
		lp.Hints[st.ID] = min(seen+1, total)
	})
	return idx, idx == total-1, err
}

// HintsSeen is how many of st's hints the learner has seen.
func HintsSeen(lp *progress.LabProgress, st *lab.Step) int {
	if lp == nil || lp.Hints == nil {
		return 0
	}
	return min(max(lp.Hints[st.ID], 0), len(st.Hints))
}

// Question is the check of st that asks the learner for a value, or nil.
func Question(st *lab.Step) *lab.Check {
	for i := range st.Checks {
		if st.Checks[i].Answer != nil {
			return &st.Checks[i]
		}
	}
	return nil
}

// Answer records value as the learner's answer to st's question and returns
// the question's check id.
func (w Learner) Answer(l *lab.Lab, st *lab.Step, value string) (string, error) {
	q := Question(st)
	if q == nil {
		return "", fmt.Errorf("%w: %s/%s", ErrNoQuestion, l.ID, st.ID)
	}
	value = strings.TrimSpace(value)
	return q.ID, w.Store.Update(l.ID, func(lp *progress.LabProgress) {
		if lp.Answers == nil {
			lp.Answers = map[string]string{}
		}
		lp.Answers[q.ID] = value
	})
}

// Answers are the learner's answers to lab l, read from the progress file.
func (w Learner) Answers(labID string) (map[string]string, error) {
	pf, err := w.Store.Load()
	if err != nil {
		return nil, err
	}
	if lp := pf.Labs[labID]; lp != nil {
		return maps.Clone(lp.Answers), nil
	}
	return nil, nil
}

// Solve performs st's reference solution with the learner's answers, and once
// its checks pass marks the step done and keeps the answers the solution
// recorded (merged into what is stored, not into a snapshot).
func (w Learner) Solve(ctx context.Context, l *lab.Lab, st *lab.Step, timeout time.Duration) ([]check.Result, error) {
	answers, err := w.Answers(l.ID)
	if err != nil {
		return nil, err
	}
	rs, got, err := w.Eng.Solve(ctx, l, st, answers, timeout)
	if err != nil {
		return rs, err
	}
	return rs, w.Store.Update(l.ID, func(lp *progress.LabProgress) {
		lp.MarkDone(st.ID)
		if len(got) > 0 && lp.Answers == nil {
			lp.Answers = map[string]string{}
		}
		maps.Copy(lp.Answers, got)
	})
}

// Reset removes what lab l and the learner made in the cluster and forgets the
// lab's progress (done steps, hints, answers). Start begins it again as new.
func (w Learner) Reset(ctx context.Context, l *lab.Lab) error {
	if err := w.Eng.Reset(ctx, l); err != nil {
		return fmt.Errorf("reset %s: %w", l.ID, err)
	}
	return w.Store.Clear(l.ID)
}
