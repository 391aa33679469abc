package grade

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	junit "github.com/joshdk/go-junit"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
)

// fakeCluster answers checks from a table that a test changes while grading runs.
type fakeCluster struct {
	mu     sync.Mutex
	status map[string]check.Status
	fns    []func()
	calls  int
}

func (f *fakeCluster) set(id string, s check.Status) {
	f.mu.Lock()
	f.status[id] = s
	fns := append([]func(){}, f.fns...)
	f.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

func (f *fakeCluster) Evaluate(_ context.Context, st *lab.Step, _ map[string]string) []check.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	var out []check.Result
	for _, c := range st.Checks {
		s := f.status[c.ID]
		if s == check.Pending {
			s = check.Fail
		}
		r := check.Result{Check: c.ID, Kind: c.KindName(), Status: s, Message: "msg " + c.ID + " <&>", Evidence: []string{"seen: " + c.ID}}
		if s == check.Fail {
			r.Diagnosis = "why " + c.ID
		}
		out = append(out, r)
	}
	return out
}

func (f *fakeCluster) OnChange(fn func()) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fns = append(f.fns, fn)
	return func() {}
}

func obj(id string) lab.Check {
	return lab.Check{ID: id, Title: lab.Text{Ko: "확인 " + id, En: "check " + id}, Exists: &lab.ObjectCheck{Kind: "Pod", Name: id}}
}

func testLabs() []*lab.Lab {
	no := false
	return []*lab.Lab{
		{ID: "one", Title: lab.Text{En: "Lab one", Ko: "실습 하나"}, Steps: []lab.Step{
			{ID: "make", Checks: []lab.Check{obj("a"), obj("b")}},
			{ID: "ask", Checks: []lab.Check{{ID: "q", Answer: &lab.AnswerCheck{}}}},
			{ID: "roll", Checks: []lab.Check{func() lab.Check { c := obj("middle"); c.Grade = &no; return c }(), obj("c")}},
			{ID: "clean", Teardown: true, Checks: []lab.Check{{ID: "gone", Absent: &lab.ObjectCheck{Kind: "Pod", Name: "a"}}}},
		}},
		{ID: "two", Title: lab.Text{En: "Lab two"}, Steps: []lab.Step{
			{ID: "s", Checks: []lab.Check{obj("d")}},
		}},
	}
}

func TestPlanSkipsWhatTheFinishedLabCannotShow(t *testing.T) {
	items := Plan(testLabs()[0])
	var got []string
	for _, it := range items {
		mark := "graded"
		if it.Skip != "" {
			mark = strings.SplitN(it.Skip, ":", 2)[0]
		}
		got = append(got, it.Step.ID+"/"+it.Check.ID+"="+mark)
	}
	want := "make/a=graded make/b=graded ask/q=answer check roll/middle=middle state roll/c=graded clean/gone=teardown step"
	if strings.Join(got, " ") != want {
		t.Fatalf("plan\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestRunFailsAtTheDeadlineAndWritesEveryCheck(t *testing.T) {
	f := &fakeCluster{status: map[string]check.Status{"a": check.Pass}}
	rep, err := Run(context.Background(), f, testLabs(), Options{Timeout: 300 * time.Millisecond, Interval: 50 * time.Millisecond, Lang: "en", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed {
		t.Fatal("report passed with failing checks")
	}
	want := Summary{Labs: 2, Checks: 7, Passed: 1, Failed: 3, Skipped: 3}
	if rep.Summary != want {
		t.Fatalf("summary %+v, want %+v", rep.Summary, want)
	}
	if rep.Seconds < 0.3 {
		t.Errorf("grading returned after %.2fs, before the deadline", rep.Seconds)
	}
	if f.calls < 3 {
		t.Errorf("evaluated %d times in 300ms at a 50ms interval; the timer does not re-evaluate", f.calls)
	}
	if err := rep.Verdict(); err == nil || !strings.Contains(err.Error(), "3 of 4") {
		t.Errorf("verdict %v, want 3 of 4 graded checks fail", err)
	}
}

func TestRunPassesAsSoonAsAChangeMakesEveryCheckPass(t *testing.T) {
	f := &fakeCluster{status: map[string]check.Status{"a": check.Pass, "b": check.Pass, "c": check.Pass}}
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.set("d", check.Pass)
	}()
	// The interval is longer than the test: only the change can wake grading up.
	rep, err := Run(context.Background(), f, testLabs(), Options{Timeout: time.Minute, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || rep.Verdict() != nil {
		t.Fatalf("report %+v, want passed", rep.Summary)
	}
	if rep.Seconds > 5 {
		t.Errorf("grading took %.1fs; a change should end it at once", rep.Seconds)
	}
}

func TestErrorsAreNotFailuresAndNeverPass(t *testing.T) {
	f := &fakeCluster{status: map[string]check.Status{"a": check.Pass, "b": check.Pass, "c": check.Pass, "d": check.Error}}
	rep, _ := Run(context.Background(), f, testLabs(), Options{})
	if rep.Passed || rep.Summary.Errors != 1 {
		t.Fatalf("summary %+v: an error must count and fail the report", rep.Summary)
	}
	if err := rep.Verdict(); err == nil || !strings.Contains(err.Error(), "could not be evaluated") {
		t.Errorf("verdict %v", err)
	}
}

func TestNothingGradedIsNotAPass(t *testing.T) {
	l := &lab.Lab{ID: "q", Steps: []lab.Step{{ID: "s", Checks: []lab.Check{{ID: "q", Answer: &lab.AnswerCheck{}}}}}}
	rep, _ := Run(context.Background(), &fakeCluster{status: map[string]check.Status{}}, []*lab.Lab{l}, Options{})
	if rep.Passed || rep.Verdict() != ErrNothingGraded {
		t.Fatalf("a lab with nothing graded passed: %+v", rep.Summary)
	}
}

func TestJUnitReadsBackWithAJUnitParser(t *testing.T) {
	f := &fakeCluster{status: map[string]check.Status{"a": check.Pass, "d": check.Error}}
	rep, _ := Run(context.Background(), f, testLabs(), Options{Lang: "ko", Target: "kind-kindlab", Namespace: "default"})
	var buf bytes.Buffer
	if err := rep.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	suites, err := junit.Ingest(buf.Bytes())
	if err != nil {
		t.Fatalf("JUnit does not parse: %v\n%s", err, buf.String())
	}
	if len(suites) != 2 || suites[0].Name != "one" || suites[1].Name != "two" {
		t.Fatalf("suites %+v, want one per lab", suites)
	}
	got := map[string]junit.Status{}
	for _, s := range suites {
		for _, tc := range s.Tests {
			got[tc.Classname+" "+strings.SplitN(tc.Name, ":", 2)[0]] = tc.Status
		}
	}
	want := map[string]junit.Status{
		"kindlab.one.make make/a": junit.StatusPassed, "kindlab.one.make make/b": junit.StatusFailed,
		"kindlab.one.ask ask/q": junit.StatusSkipped, "kindlab.one.roll roll/middle": junit.StatusSkipped,
		"kindlab.one.roll roll/c": junit.StatusFailed, "kindlab.one.clean clean/gone": junit.StatusSkipped,
		"kindlab.two.s s/d": junit.StatusError,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d test cases, want %d: %v", len(got), len(want), got)
	}
	// The learner-language title and message with its evidence are in the failure.
	s := buf.String()
	for _, w := range []string{`name="make/b: 확인 b"`, `message="msg b &lt;&amp;&gt;"`, "→ why b", "seen: b", `<testsuites name="kindlab" tests="7" failures="2" errors="1" skipped="3"`, `name="namespace" value="default"`} {
		if !strings.Contains(s, w) {
			t.Errorf("JUnit lacks %s:\n%s", w, s)
		}
	}
}

func TestJSONFieldNamesAreStable(t *testing.T) {
	f := &fakeCluster{status: map[string]check.Status{"a": check.Pass}}
	rep, _ := Run(context.Background(), f, testLabs()[1:], Options{Lang: "en"})
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"schema", "target", "namespace", "lang", "startedAt", "seconds", "timeoutSeconds", "passed", "summary", "labs"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON report lacks %q", k)
		}
	}
	c := m["labs"].([]any)[0].(map[string]any)["checks"].([]any)[0].(map[string]any)
	for _, k := range []string{"step", "id", "kind", "title", "status", "message", "diagnosis", "evidence", "seconds"} {
		if _, ok := c[k]; !ok {
			t.Errorf("JSON check lacks %q: %v", k, c)
		}
	}
	if m["schema"] != Schema || c["status"] != "failed" {
		t.Errorf("schema %v status %v", m["schema"], c["status"])
	}
}
