package selftest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
)

// fakeSession holds each check's result; an action named by its manifest text
// sets results ("c=fail:why" or "c=pass"), a solution passes every check.
type fakeSession struct {
	mu      sync.Mutex
	results map[string]check.Result
	objects []string
	// leak is added to the namespace's objects by a reset after the first.
	leak   string
	resets int
}

func (f *fakeSession) set(spec string) {
	for _, kv := range strings.Split(spec, ",") {
		id, v, _ := strings.Cut(kv, "=")
		st, why, _ := strings.Cut(v, ":")
		r := check.Result{Check: id, Status: check.Fail, Diagnosis: why}
		if st == "pass" {
			r.Status = check.Pass
		}
		f.results[id] = r
	}
}

func (f *fakeSession) Setup(context.Context, *lab.Lab, *lab.Step) error { return nil }
func (f *fakeSession) Evaluate(_ context.Context, st *lab.Step, _ map[string]string) []check.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []check.Result
	for _, c := range st.Checks {
		r, ok := f.results[c.ID]
		if !ok {
			r = check.Result{Check: c.ID, Status: check.Fail}
		}
		out = append(out, r)
	}
	return out
}
func (f *fakeSession) Run(_ context.Context, _ *lab.Lab, _ *lab.Step, a lab.Action, _ map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set(a.Manifest)
	return nil
}
func (f *fakeSession) Solve(ctx context.Context, _ *lab.Lab, st *lab.Step, answers map[string]string, _ time.Duration) ([]check.Result, map[string]string, error) {
	f.mu.Lock()
	for _, c := range st.Checks {
		f.results[c.ID] = check.Result{Check: c.ID, Status: check.Pass}
	}
	f.mu.Unlock()
	return f.Evaluate(ctx, st, nil), answers, nil
}
func (f *fakeSession) Watch(ctx context.Context, st *lab.Step, answers map[string]string, _ time.Duration, out chan<- []check.Result) {
	for {
		select {
		case out <- f.Evaluate(ctx, st, answers):
		case <-ctx.Done():
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
func (f *fakeSession) Reset(context.Context, *lab.Lab) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.results = map[string]check.Result{}
	if f.resets++; f.resets > 1 && f.leak != "" {
		f.objects = append(f.objects, f.leak)
	}
	return nil
}
func (f *fakeSession) Objects(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.objects...), nil
}

func demo(nearMiss lab.NearMiss) *lab.Lab {
	return &lab.Lab{ID: "demo", Steps: []lab.Step{{
		ID:         "one",
		Checks:     []lab.Check{{ID: "a"}, {ID: "b"}},
		NearMisses: []lab.NearMiss{nearMiss},
	}}}
}

func TestSelftestFindsWhatDoesNotHold(t *testing.T) {
	t.Parallel()
	caught := lab.NearMiss{ID: "typo", Fails: "b", Diagnosis: "closest", Actions: []lab.Action{{Manifest: "a=pass,b=fail:closest pod x"}}}
	for _, tt := range []struct {
		name     string
		nearMiss lab.NearMiss
		start    string // results at the step's start
		leak     string
		problem  string // "" for a pass
	}{
		{"everything holds", caught, "", "", ""},
		{"a check passes before the solution", caught, "a=pass", "", "check a is pass at the step's start, want fail"},
		{"a near-miss the check does not catch", lab.NearMiss{ID: "x", Fails: "b", Diagnosis: "closest", Actions: []lab.Action{{Manifest: "b=pass"}}}, "", "", "the near-miss passes the check"},
		{"a diagnosis that does not say it", lab.NearMiss{ID: "x", Fails: "b", Diagnosis: "closest", Actions: []lab.Action{{Manifest: "b=fail:something else"}}}, "", "", `the diagnosis never said "closest"`},
		{"a reset that leaves an object", caught, "", "pod/stray", "reset left the namespace with pod/stray; before the lab it held nothing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeSession{results: map[string]check.Result{}, leak: tt.leak}
			s := &startSession{fakeSession: f, start: tt.start}
			rep, err := Run(context.Background(), s, []*lab.Lab{demo(tt.nearMiss)}, Options{NearMissTimeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, lr := range rep.Labs {
				problems = append(problems, lr.Problems...)
				for _, st := range lr.Steps {
					problems = append(problems, st.Problems...)
					for _, nm := range st.NearMisses {
						if !nm.Passed {
							problems = append(problems, nm.Problem)
						}
					}
				}
			}
			all := strings.Join(problems, "\n")
			switch {
			case tt.problem == "" && (!rep.Passed || rep.Verdict() != nil || all != ""):
				t.Errorf("want a pass; problems:\n%s", all)
			case tt.problem != "" && (rep.Passed || rep.Verdict() == nil || !strings.Contains(all, tt.problem)):
				t.Errorf("want a problem %q; passed %v, problems:\n%s", tt.problem, rep.Passed, all)
			}
		})
	}
}

// startSession's setup leaves the results start names.
type startSession struct {
	*fakeSession
	start string
}

func (s *startSession) Setup(context.Context, *lab.Lab, *lab.Step) error {
	if s.start != "" {
		s.mu.Lock()
		s.set(s.start)
		s.mu.Unlock()
	}
	return nil
}
