// Package grade grades the state a learner left in a cluster, for CI and for an
// instructor: the graded checks of each lab are evaluated until they all pass or a
// deadline comes (re-evaluated on every watched change, not by polling alone), and
// the verdicts become a Report that writes itself as JSON and as JUnit XML.
//
// A lab is graded on its finished state: every check of every step, except checks
// of teardown steps (the lab's closing kubectl delete), checks marked grade: false
// (a middle state that a later step changes) and answer checks (they need what the
// learner typed, which a cluster does not hold); those are reported as skipped.
package grade

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
)

// Schema names the JSON report format; it changes only with a new version.
const Schema = "kindlab.dev/grade/v1"

// Status of a graded check.
type Status string

const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
	// Errored: the check could not be evaluated (API unreachable, helper pod down).
	Errored Status = "error"
)

// Item is one check of a lab as grade sees it.
type Item struct {
	Step  *lab.Step
	Check *lab.Check
	// Skip says why the check is not graded ("" when it is).
	Skip string
}

// Plan lists the checks of l in order, each graded or skipped with its reason.
func Plan(l *lab.Lab) []Item {
	var items []Item
	for i := range l.Steps {
		st := &l.Steps[i]
		for j := range st.Checks {
			c := &st.Checks[j]
			it := Item{Step: st, Check: c}
			switch {
			case st.Teardown:
				it.Skip = "teardown step: grade checks the finished lab before its clean-up"
			case c.Answer != nil:
				it.Skip = "answer check: needs the value the learner read, which the cluster does not hold"
			case !c.Graded():
				it.Skip = "middle state: a later step of the lab changes it"
			}
			items = append(items, it)
		}
	}
	return items
}

// Evaluator is what grading needs from a lab session (engine.Session has it).
type Evaluator interface {
	// Evaluate is given no answers: grading skips answer checks.
	Evaluate(ctx context.Context, st *lab.Step, answers map[string]string) []check.Result
	OnChange(fn func()) (remove func())
}

// CheckResult is the verdict of one check in a report.
type CheckResult struct {
	Step    string `json:"step"`
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Title   string `json:"title"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Diagnosis says why a failed check fails, from the cluster's state (added
	// within v1: a reader of v1 that does not know it loses nothing).
	Diagnosis string   `json:"diagnosis,omitempty"`
	Evidence  []string `json:"evidence,omitempty"`
	// Seconds from the start of grading to the last evaluation of this check.
	Seconds float64 `json:"seconds"`
	// HeldSeconds is how long a passing check was seen passing without a break
	// (added within v1; 0 when graded at one moment).
	HeldSeconds float64 `json:"heldSeconds,omitempty"`
}

// LabResult is one lab in a report.
type LabResult struct {
	ID     string        `json:"id"`
	Title  string        `json:"title"`
	Passed bool          `json:"passed"`
	Checks []CheckResult `json:"checks"`
}

// Summary counts the checks of a report.
type Summary struct {
	Labs    int `json:"labs"`
	Checks  int `json:"checks"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	Errors  int `json:"errors"`
}

// Report is the result of grading; its JSON field names are stable (Schema).
type Report struct {
	Schema    string      `json:"schema"`
	Target    string      `json:"target"`
	Namespace string      `json:"namespace"`
	Lang      string      `json:"lang"`
	StartedAt time.Time   `json:"startedAt"`
	Seconds   float64     `json:"seconds"`
	Timeout   float64     `json:"timeoutSeconds"`
	Passed    bool        `json:"passed"`
	Summary   Summary     `json:"summary"`
	Labs      []LabResult `json:"labs"`
}

// Options of a grading run.
type Options struct {
	// Timeout is how long to wait for every graded check to pass (0: evaluate once).
	Timeout time.Duration
	// Interval re-evaluates network checks (HTTP, DNS), which no watch event announces.
	Interval time.Duration
	// Target and Namespace describe what was graded, for the report.
	Target, Namespace, Lang string
	// Settle is how long a check must keep passing to count as passed when
	// grading waits (Timeout > 0): a readiness that flaps does not pass. With
	// Timeout 0 the checks are graded as they are at that moment.
	Settle time.Duration
}

// Run grades labs against ev. It returns the report even when ctx ends early
// (with ctx's error): what was seen so far is worth writing.
func Run(ctx context.Context, ev Evaluator, labs []*lab.Lab, o Options) (*Report, error) {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	start := time.Now()
	rep := &Report{Schema: Schema, Target: o.Target, Namespace: o.Namespace, Lang: o.Lang,
		StartedAt: start.UTC().Truncate(time.Second), Timeout: o.Timeout.Seconds()}

	// One synthetic step per lab holds its graded checks, so that a lab's checks are
	// evaluated concurrently in one call.
	type labPlan struct {
		items  []Item
		graded lab.Step
		// index[i] is the position in items of graded.Checks[i].
		index []int
	}
	plans := make([]*labPlan, len(labs))
	for i, l := range labs {
		p := &labPlan{items: Plan(l)}
		for j, it := range p.items {
			if it.Skip == "" {
				p.graded.Checks = append(p.graded.Checks, *it.Check)
				p.index = append(p.index, j)
			}
		}
		plans[i] = p
	}
	last := make([][]check.Result, len(labs))
	at := make([]time.Duration, len(labs))
	done := make([]bool, len(labs))
	// passSince[i][k]: since when check k of lab i has passed without a break.
	passSince := make([][]time.Time, len(labs))
	held := func(i, k int) time.Duration {
		if passSince[i] == nil || passSince[i][k].IsZero() {
			return 0
		}
		return time.Since(passSince[i][k])
	}

	// holding[i]: lab i's checks all pass but have not held for the settle
	// time yet; grading looks again when it has passed.
	holding := make([]bool, len(labs))
	evaluate := func() bool {
		clear(holding)
		var wg sync.WaitGroup
		for i, p := range plans {
			if done[i] || len(p.graded.Checks) == 0 {
				done[i] = true
				continue
			}
			wg.Add(1)
			go func(i int, p *labPlan) {
				defer wg.Done()
				last[i] = ev.Evaluate(ctx, &p.graded, nil)
				at[i] = time.Since(start)
				now := time.Now()
				if passSince[i] == nil {
					passSince[i] = make([]time.Time, len(last[i]))
				}
				steady := true
				for k, r := range last[i] {
					switch {
					case r.Status != check.Pass:
						passSince[i][k] = time.Time{}
					case passSince[i][k].IsZero():
						passSince[i][k] = now
					}
					steady = steady && o.Timeout > 0 && now.Sub(passSince[i][k]) >= o.Settle
				}
				// A lab whose checks all pass (and, when grading waits, keep passing
				// for the settle time) is final: grading observes, never changes.
				done[i] = allPass(last[i]) && (o.Timeout <= 0 || steady)
				if allPass(last[i]) && !done[i] {
					holding[i] = true
				}
			}(i, p)
		}
		wg.Wait()
		for _, d := range done {
			if !d {
				return false
			}
		}
		return true
	}

	changed := make(chan struct{}, 1)
	remove := ev.OnChange(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer remove()
	deadline := time.NewTimer(o.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	var runErr error
	for !evaluate() && o.Timeout > 0 {
		var settled <-chan time.Time
		if slices.Contains(holding, true) {
			settled = time.After(o.Settle / 2)
		}
		select {
		case <-settled:
			continue
		case <-ctx.Done():
			runErr = ctx.Err()
		case <-deadline.C:
		case <-changed:
			// A burst of events (a rollout) settles before the next look.
			time.Sleep(100 * time.Millisecond)
			continue
		case <-tick.C:
			continue
		}
		break
	}

	for i, l := range labs {
		p := plans[i]
		lr := LabResult{ID: l.ID, Title: l.Title.In(o.Lang), Passed: true}
		results := make([]*check.Result, len(p.items))
		heldFor := make([]time.Duration, len(p.items))
		for k, r := range last[i] {
			results[p.index[k]] = &r
			heldFor[p.index[k]] = held(i, k)
		}
		for j, it := range p.items {
			cr := CheckResult{Step: it.Step.ID, ID: it.Check.ID, Kind: it.Check.KindName(), Title: it.Check.Title.In(o.Lang)}
			switch r := results[j]; {
			case it.Skip != "":
				cr.Status, cr.Message = Skipped, it.Skip
			case r == nil:
				cr.Status, cr.Message = Errored, "not evaluated: grading was interrupted"
			default:
				cr.Message, cr.Diagnosis, cr.Evidence, cr.Seconds = r.Message, r.Diagnosis, r.Evidence, at[i].Seconds()
				switch r.Status {
				case check.Pass:
					cr.Status = Passed
					if o.Timeout > 0 {
						cr.HeldSeconds = heldFor[j].Seconds()
						if heldFor[j] < o.Settle {
							cr.Status = Failed
							cr.Message = fmt.Sprintf("passes only since %.1fs ago: a check counts once it keeps passing for %s (%s)", heldFor[j].Seconds(), o.Settle, r.Message)
							if o.Lang == "ko" {
								cr.Message = fmt.Sprintf("%.1f초 전부터만 통과합니다: 검사는 %s 동안 계속 통과해야 인정됩니다 (%s)", heldFor[j].Seconds(), o.Settle, r.Message)
							}
						}
					}
				case check.Error:
					cr.Status = Errored
				default:
					cr.Status = Failed
				}
			}
			rep.Summary.Checks++
			switch cr.Status {
			case Passed:
				rep.Summary.Passed++
			case Failed:
				rep.Summary.Failed++
				lr.Passed = false
			case Skipped:
				rep.Summary.Skipped++
			case Errored:
				rep.Summary.Errors++
				lr.Passed = false
			}
			lr.Checks = append(lr.Checks, cr)
		}
		rep.Labs = append(rep.Labs, lr)
	}
	rep.Summary.Labs = len(labs)
	rep.Passed = rep.Summary.Failed == 0 && rep.Summary.Errors == 0 && rep.Summary.Passed > 0
	rep.Seconds = time.Since(start).Seconds()
	return rep, runErr
}

func allPass(rs []check.Result) bool {
	for _, r := range rs {
		if r.Status != check.Pass {
			return false
		}
	}
	return true
}

// ErrNothingGraded is Verdict's answer when the labs have no graded check.
var ErrNothingGraded = errors.New("the labs have no graded checks")

// Verdict maps a report to an outcome: nil when everything graded passed.
func (r *Report) Verdict() error {
	switch {
	case r.Summary.Errors > 0:
		return fmt.Errorf("%d check(s) could not be evaluated", r.Summary.Errors)
	case r.Summary.Passed+r.Summary.Failed == 0:
		return ErrNothingGraded
	case r.Summary.Failed > 0:
		return fmt.Errorf("%d of %d graded checks fail", r.Summary.Failed, r.Summary.Passed+r.Summary.Failed)
	}
	return nil
}
