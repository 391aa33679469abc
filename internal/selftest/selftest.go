// Package selftest proves a lab pack's checks on a real cluster: for every step
// of every lab, the step's start state fails every check, each near-miss the
// step declares fails the check it names with the diagnosis it names, and the
// reference solution passes every check (and keeps passing for the settle
// time). A lab's reset must then leave the namespace as it found it. It is what
// `kindlab labs selftest` runs, and what the end-to-end tier runs for the
// chapter.
package selftest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/lab"
)

// Session is what selftest needs of a lab session (engine.Session has it).
type Session interface {
	Setup(ctx context.Context, l *lab.Lab, st *lab.Step) error
	Evaluate(ctx context.Context, st *lab.Step, answers map[string]string) []check.Result
	Run(ctx context.Context, l *lab.Lab, st *lab.Step, a lab.Action, answers map[string]string) error
	Solve(ctx context.Context, l *lab.Lab, st *lab.Step, answers map[string]string, timeout time.Duration) ([]check.Result, map[string]string, error)
	Watch(ctx context.Context, st *lab.Step, answers map[string]string, interval time.Duration, out chan<- []check.Result)
	Reset(ctx context.Context, l *lab.Lab) error
	// Objects names what a learner sees in the namespace (kind/name).
	Objects(ctx context.Context) ([]string, error)
}

var _ Session = (*engine.Session)(nil)

// Options of a selftest run.
type Options struct {
	// SolveTimeout bounds the wait for a step's checks after its solution.
	SolveTimeout time.Duration
	// NearMissTimeout bounds the wait for a near-miss's check to fail with its
	// diagnosis.
	NearMissTimeout time.Duration
	// Progress, when set, is told each step's and near-miss's outcome as it comes.
	Progress func(line string)
}

// Report is the outcome of a selftest run.
type Report struct {
	Passed  bool        `json:"passed"`
	Seconds float64     `json:"seconds"`
	Labs    []LabReport `json:"labs"`
}

// LabReport is one lab's outcome.
type LabReport struct {
	ID      string       `json:"id"`
	Passed  bool         `json:"passed"`
	Seconds float64      `json:"seconds"`
	Steps   []StepReport `json:"steps"`
	// Problems are the lab's own: a reset that failed or left objects behind.
	Problems []string `json:"problems,omitempty"`
}

// StepReport is one step's outcome.
type StepReport struct {
	ID     string `json:"id"`
	Passed bool   `json:"passed"`
	// Problems: a check that did not fail at the start, a solution whose checks
	// did not pass, an action that failed.
	Problems   []string         `json:"problems,omitempty"`
	NearMisses []NearMissReport `json:"nearMisses,omitempty"`
	Seconds    float64          `json:"seconds"`
}

// NearMissReport is one near-miss's outcome: the check it names, as last seen.
type NearMissReport struct {
	ID        string       `json:"id"`
	Check     string       `json:"check"`
	Passed    bool         `json:"passed"`
	Status    check.Status `json:"status"`
	Diagnosis string       `json:"diagnosis,omitempty"`
	Problem   string       `json:"problem,omitempty"`
	Seconds   float64      `json:"seconds"`
}

// Run selftests labs in order on s. It returns the report even when ctx ends
// early (with ctx's error).
func Run(ctx context.Context, s Session, labs []*lab.Lab, o Options) (*Report, error) {
	if o.SolveTimeout <= 0 {
		o.SolveTimeout = 3 * time.Minute
	}
	if o.NearMissTimeout <= 0 {
		o.NearMissTimeout = time.Minute
	}
	say := func(format string, args ...any) {
		if o.Progress != nil {
			o.Progress(fmt.Sprintf(format, args...))
		}
	}
	start := time.Now()
	rep := &Report{Passed: true}
	for _, l := range labs {
		if ctx.Err() != nil {
			break
		}
		lr := runLab(ctx, s, l, o, say)
		rep.Passed = rep.Passed && lr.Passed
		rep.Labs = append(rep.Labs, lr)
	}
	rep.Seconds = time.Since(start).Seconds()
	if err := ctx.Err(); err != nil {
		rep.Passed = false
		return rep, err
	}
	return rep, nil
}

func runLab(ctx context.Context, s Session, l *lab.Lab, o Options, say func(string, ...any)) LabReport {
	start := time.Now()
	lr := LabReport{ID: l.ID, Passed: true}
	problem := func(format string, args ...any) {
		lr.Passed = false
		lr.Problems = append(lr.Problems, fmt.Sprintf(format, args...))
		say("%s: %s", l.ID, lr.Problems[len(lr.Problems)-1])
	}
	// The lab starts from its reset, and must leave the namespace as it was.
	if err := s.Reset(ctx, l); err != nil {
		problem("reset before the lab: %v", err)
	}
	before, listErr := s.Objects(ctx)
	if listErr != nil {
		problem("list the namespace: %v", listErr)
	}
	answers := map[string]string{}
	for i := range l.Steps {
		st := &l.Steps[i]
		sr, got := runStep(ctx, s, l, st, answers, o, say)
		answers = got
		lr.Steps = append(lr.Steps, sr)
		if !sr.Passed {
			lr.Passed = false
			break // later steps start from this one's end
		}
	}
	if err := s.Reset(ctx, l); err != nil {
		problem("reset after the lab: %v", err)
	} else if after, err := s.Objects(ctx); err == nil && listErr == nil && !slices.Equal(before, after) {
		problem("reset left the namespace with %s; before the lab it held %s", list(after), list(before))
	}
	lr.Seconds = time.Since(start).Seconds()
	return lr
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "nothing"
	}
	return strings.Join(xs, ", ")
}

func runStep(ctx context.Context, s Session, l *lab.Lab, st *lab.Step, answers map[string]string, o Options, say func(string, ...any)) (sr StepReport, _ map[string]string) {
	start := time.Now()
	sr = StepReport{ID: st.ID, Passed: true}
	problem := func(format string, args ...any) {
		sr.Passed = false
		sr.Problems = append(sr.Problems, fmt.Sprintf(format, args...))
	}
	defer func() {
		sr.Seconds = time.Since(start).Seconds()
		mark := "✓"
		if !sr.Passed {
			mark = "✗"
		}
		say("%s %s/%s (%d checks, %d near-misses) %.1fs", mark, l.ID, st.ID, len(st.Checks), len(st.NearMisses), sr.Seconds)
		for _, p := range sr.Problems {
			say("    %s", p)
		}
	}()
	if err := s.Setup(ctx, l, st); err != nil {
		problem("setup: %v", err)
		return sr, answers
	}
	// The start state fails every check. (The watch cache may lag the setup by
	// a moment; a lagging cache still holds the previous step's end, where this
	// step's checks fail too.)
	for _, r := range s.Evaluate(ctx, st, answers) {
		if r.Status != check.Fail {
			problem("check %s is %s at the step's start, want fail: %s", r.Check, r.Status, r.Message)
		}
	}
	for _, nm := range st.NearMisses {
		nr := nearMiss(ctx, s, l, st, nm, answers, o)
		mark := "✓"
		if !nr.Passed {
			mark = "✗"
			sr.Passed = false
		}
		say("  %s near-miss %s: %s %s — %s", mark, nm.ID, nm.Fails, nr.Status, valueOr(nr.Diagnosis, nr.Problem))
		sr.NearMisses = append(sr.NearMisses, nr)
	}
	rs, got, err := s.Solve(ctx, l, st, answers, o.SolveTimeout)
	if err != nil {
		problem("solution: %v", err)
		for _, r := range rs {
			if r.Status != check.Pass {
				problem("  %s: %s %s", r.Check, r.Status, r.Message)
			}
		}
	}
	return sr, got
}

func valueOr(v, alt string) string {
	if v == "" {
		return alt
	}
	return v
}

// passingIsFinal: a near-miss whose check has passed this long is not caught
// by it (the watch re-evaluates every half second, so it is seen).
const passingIsFinal = 10 * time.Second

// nearMiss makes nm from the step's start and waits until its check fails with
// a diagnosis that says what nm says; then undoes what nm asks.
func nearMiss(ctx context.Context, s Session, l *lab.Lab, st *lab.Step, nm lab.NearMiss, answers map[string]string, o Options) (nr NearMissReport) {
	start := time.Now()
	nr = NearMissReport{ID: nm.ID, Check: nm.Fails}
	defer func() { nr.Seconds = time.Since(start).Seconds() }()
	for i, a := range nm.Actions {
		if err := s.Run(ctx, l, st, a, answers); err != nil {
			nr.Problem = fmt.Sprintf("action %d: %v", i+1, err)
			return nr
		}
	}
	sub := *st
	sub.Checks = nil
	for _, c := range st.Checks {
		if c.ID == nm.Fails {
			sub.Checks = append(sub.Checks, c)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, o.NearMissTimeout)
	defer cancel()
	ch := make(chan []check.Result)
	go s.Watch(wctx, &sub, answers, 500*time.Millisecond, ch)
	var (
		last      check.Result
		passSince time.Time
	)
wait:
	for {
		select {
		case rs := <-ch:
			if len(rs) == 1 {
				last = rs[0]
			}
			switch {
			case last.Status == check.Fail && strings.Contains(last.Diagnosis, nm.Diagnosis):
				nr.Passed = true
				break wait
			case last.Status != check.Pass:
				passSince = time.Time{}
			case passSince.IsZero():
				passSince = time.Now()
			case time.Since(passSince) >= passingIsFinal:
				// Passing through a start state's remains is brief; this long is the near-miss's own.
				break wait
			}
		case <-wctx.Done():
			break wait
		}
	}
	nr.Status, nr.Diagnosis = last.Status, last.Diagnosis
	if !nr.Passed {
		switch {
		case last.Status == check.Pass:
			nr.Problem = "the near-miss passes the check: the check does not catch it"
		case last.Status != check.Fail:
			nr.Problem = fmt.Sprintf("the check is %s: %s", last.Status, last.Message)
		default:
			nr.Problem = fmt.Sprintf("within %s the diagnosis never said %q (last: %q; message %q)", o.NearMissTimeout, nm.Diagnosis, last.Diagnosis, last.Message)
		}
	}
	for i, a := range nm.Undo {
		if err := s.Run(ctx, l, st, a, answers); err != nil {
			nr.Passed = false
			nr.Problem = strings.TrimPrefix(nr.Problem+"; ", "; ") + fmt.Sprintf("undo %d: %v", i+1, err)
		}
	}
	return nr
}

// ErrFailed is what a run that found problems returns from Verdict.
var ErrFailed = errors.New("selftest found problems")

// Verdict is nil when every lab passed.
func (r *Report) Verdict() error {
	if r.Passed && len(r.Labs) > 0 {
		return nil
	}
	return ErrFailed
}
