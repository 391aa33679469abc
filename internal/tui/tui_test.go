package tui

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

// seed: pod done, deployment under way (step 1 done), service-nodeport new.
func seed() map[string]*progress.LabProgress {
	return map[string]*progress.LabProgress{
		"pod":        {Done: []string{"create-pod", "exec"}},
		"deployment": {Current: "create-deployment"},
	}
}

func TestLabList(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	h.press("down")
	h.golden("lab_list")
}

func TestLabListKorean(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "ko", seed())
	h.golden("lab_list_ko")
}

// openDeployment opens the deployment lab from the list.
func openDeployment(h *harness) {
	h.t.Helper()
	h.press("down", "enter")
	if h.m.screen != stepScreen || h.m.step.lab.ID != "deployment" {
		h.t.Fatalf("enter did not open the deployment lab")
	}
}

func TestStepMixedResults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	h.results(
		pass("applied"),
		fail("revision-one", "deployment my-nginx-deployment has 1 ready replica; want 3"),
		check.Result{Check: "replicaset", Status: check.Pending},
	)
	h.golden("step_mixed")
	if lp := h.progress("deployment"); lp.IsDone("create-deployment") {
		t.Error("a step with a failing check was recorded as done")
	}
}

func TestOpenRunsSetupOnlyForANewLab(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	h.press("esc", "down", "enter")
	if h.m.step.lab.ID != "service-nodeport" {
		t.Fatalf("opened %s", h.m.step.lab.ID)
	}
	if got := strings.Join(h.eng.setups, ","); got != "service-nodeport/create-service" {
		t.Errorf("setups = %q; want only the new lab's first step", got)
	}
	if lp := h.progress("service-nodeport"); lp == nil || lp.Current != "create-service" {
		t.Errorf("opening a lab did not record its current step: %+v", lp)
	}
}

func TestStepCompletesByItself(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	h.results(pass("applied"), fail("revision-one", "1 of 3 pods ready"), pass("replicaset"))
	h.results(pass("applied"), pass("revision-one"), pass("replicaset"))
	if lp := h.progress("deployment"); !lp.IsDone("create-deployment") {
		t.Fatalf("all checks pass but the step is not recorded as done: %+v", lp)
	}
	h.golden("step_done")
	h.press("esc")
	h.golden("lab_list_after_done")
}

func TestHintsAdvance(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	h.press("h")
	if n := h.progress("deployment").Hints["create-deployment"]; n != 1 {
		t.Fatalf("after h, hints seen = %d; want 1", n)
	}
	h.press("h")
	if n := h.progress("deployment").Hints["create-deployment"]; n != 2 {
		t.Fatalf("after h h, hints seen = %d; want 2", n)
	}
	h.golden("step_hints")
	h.press("h", "h")
	if n := h.progress("deployment").Hints["create-deployment"]; n != 3 {
		t.Errorf("hints seen = %d after more presses than hints; want 3, the last", n)
	}
	if !strings.Contains(h.m.step.status(), "last hint") {
		t.Errorf("no word that the hints ran out: %q", h.m.step.status())
	}
}

func TestLanguageToggle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	h.results(pass("applied"), fail("revision-one", "deployment my-nginx-deployment has 1 ready replica; want 3"), pass("replicaset"))
	h.press("l")
	h.golden("step_ko")
	h.press("l")
	if h.m.lang != "en" || !strings.Contains(h.m.View().Content, "Create the Deployment") {
		t.Error("l twice did not come back to English")
	}
}

func TestResizeReflows(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	h.results(pass("applied"), fail("revision-one", "deployment my-nginx-deployment has 1 ready replica; want 3: the other pods are Pending"), pass("replicaset"))
	h.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	h.golden("step_narrow")
	h.send(tea.WindowSizeMsg{Width: testWidth, Height: testHeight})
	wide := New(t, h)
	if wide != testHeight {
		t.Errorf("after growing back the view has %d lines", wide)
	}
}

// New counts the view's lines.
func New(t *testing.T, h *harness) int {
	t.Helper()
	return strings.Count(h.m.View().Content, "\n") + 1
}

func TestNextPrevious(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	gen := h.m.step.gen
	h.press("n")
	if h.m.step.idx != 1 || h.m.step.gen == gen {
		t.Fatalf("n: step %d, watch %d; want step 2 with a new watch", h.m.step.idx+1, h.m.step.gen)
	}
	// A result of the previous step's watch arrives late: it is not this step's.
	h.send(resultsMsg{gen: gen, results: []check.Result{pass("applied")}})
	if h.m.step.results != nil {
		t.Error("a stale watch's results were shown")
	}
	h.press("n")
	if h.m.step.idx != 1 {
		t.Error("n went past the last step")
	}
	h.press("p", "p")
	if h.m.step.idx != 0 {
		t.Errorf("p p: step %d; want 1", h.m.step.idx+1)
	}
	if lp := h.progress("deployment"); lp.Current != "create-deployment" {
		t.Errorf("current step recorded as %q", lp.Current)
	}
}

func TestSolveAsksFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	h.press("s")
	if !strings.Contains(h.m.View().Content, "kubectl apply -f deployment-nginx.yaml --record") {
		t.Error("s did not show the solution's commands")
	}
	h.press("n")
	if len(h.eng.solves) != 0 || h.m.step.idx != 0 {
		t.Fatalf("n at the prompt did something: solves %v, step %d", h.eng.solves, h.m.step.idx+1)
	}
	h.eng.solveRes = []check.Result{pass("applied"), pass("revision-one"), pass("replicaset")}
	h.eng.solveAnswers = map[string]string{"pod-ip": "10.244.0.5"}
	h.press("S")
	h.golden("step_solve_prompt")
	h.press("y")
	if got := strings.Join(h.eng.solves, ","); got != "deployment/create-deployment" {
		t.Fatalf("solves = %q", got)
	}
	lp := h.progress("deployment")
	if !lp.IsDone("create-deployment") || lp.Answers["pod-ip"] != "10.244.0.5" {
		t.Errorf("a solved step is not done with its answers: %+v", lp)
	}
	if !strings.Contains(h.m.step.status(), "Solution performed") {
		t.Errorf("status after solve: %q", h.m.step.status())
	}
}

func TestResetAsksFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	h.press("n", "h", "r", "esc")
	if len(h.eng.resets) != 0 {
		t.Fatal("reset without a yes")
	}
	h.press("r", "y")
	if got := strings.Join(h.eng.resets, ","); got != "deployment" {
		t.Fatalf("resets = %q", got)
	}
	if h.m.step.idx != 0 {
		t.Errorf("after reset the screen shows step %d; want 1", h.m.step.idx+1)
	}
	lp := h.progress("deployment")
	if lp == nil || len(lp.Hints) != 0 || lp.Current != "create-deployment" {
		t.Errorf("reset did not forget the lab's progress: %+v", lp)
	}
	if got := h.eng.setups[len(h.eng.setups)-1]; got != "deployment/create-deployment" {
		t.Errorf("reset did not set the first step up again: last setup %q", got)
	}
}

func TestQuit(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"q", "ctrl+c"} {
		h := newHarness(t, "en", seed())
		openDeployment(h)
		h.press(k)
		if !h.quit {
			t.Errorf("%s did not quit", k)
		}
		if w := h.m.step.watch; w != nil && w.ctx.Err() == nil {
			t.Errorf("%s left the watch running", k)
		}
	}
}

func TestHangulKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "ko", seed())
	openDeployment(h)
	h.send(tea.KeyPressMsg{Code: 'ㅜ', Text: "ㅜ"})
	if h.m.step.idx != 1 {
		t.Error("ㅜ (n on a Korean keyboard) did not go to the next step")
	}
}

// TestWatchFollowsStep runs the real wiring: results reach the screen without a
// key press, and moving to another step cancels the old watch.
func TestWatchFollowsStep(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng := newFakeEngine()
	store := progress.Open(t.TempDir(), "test")
	var m tea.Model = NewModel(ctx, Options{Labs: testLabs(), Engine: eng, Progress: store, Lang: "en"})
	msgs := make(chan tea.Msg, 16)
	// Cmds run as Bubble Tea runs them: each in its own goroutine. The test ends
	// only when they have, so none writes progress into a removed directory.
	var running sync.WaitGroup
	defer running.Wait()
	defer cancel()
	var exec func(tea.Cmd)
	exec = func(c tea.Cmd) {
		if c == nil {
			return
		}
		running.Go(func() {
			switch msg := c().(type) {
			case nil:
			case tea.BatchMsg:
				for _, c := range msg {
					exec(c)
				}
			default:
				select {
				case msgs <- msg:
				case <-ctx.Done():
				}
			}
		})
	}
	step := func(msg tea.Msg) {
		var c tea.Cmd
		m, c = m.Update(msg)
		exec(c)
	}
	waitFor := func(what string, ok func(tea.Msg) bool) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case msg := <-msgs:
				step(msg)
				if ok(msg) {
					return
				}
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	// watchStarted handles messages until the engine is asked to watch a step.
	watchStarted := func(id string) fakeWatch {
		t.Helper()
		deadline := time.After(5 * time.Second)
		for {
			select {
			case msg := <-msgs:
				step(msg)
			case w := <-eng.watching:
				if w.step != id {
					t.Fatalf("watching %s; want %s", w.step, id)
				}
				return w
			case <-deadline:
				t.Fatalf("no watch started for %s", id)
			}
		}
	}

	step(tea.WindowSizeMsg{Width: testWidth, Height: testHeight})
	step(openLabMsg{lab: testLabs().Labs[1]})
	first := watchStarted("create-deployment")
	first.out <- []check.Result{pass("applied")}
	waitFor("the first results", func(msg tea.Msg) bool { _, ok := msg.(resultsMsg); return ok })
	// The Cmd was re-armed: a second result arrives with no key pressed.
	first.out <- []check.Result{pass("applied"), pass("revision-one")}
	waitFor("the second results", func(msg tea.Msg) bool {
		r, ok := msg.(resultsMsg)
		return ok && len(r.results) == 2
	})
	if got := m.(Model).step.results; len(got) != 2 {
		t.Fatalf("the screen shows %d results; want 2", len(got))
	}

	step(keyPress("n"))
	select {
	case <-first.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first step's watch was not cancelled when the step changed")
	}
	second := watchStarted("new-revision")
	second.out <- []check.Result{pass("revision-two")}
	waitFor("the new step's results", func(msg tea.Msg) bool { _, ok := msg.(resultsMsg); return ok })
	if got := m.(Model).step; got.idx != 1 || len(got.results) != 1 {
		t.Errorf("step %d shows %v", got.idx+1, got.results)
	}
	step(keyPress("esc"))
	select {
	case <-second.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("esc did not stop the watch")
	}
}

func TestPlainOutputWhenNotATerminal(t *testing.T) {
	t.Parallel()
	store := progress.Open(t.TempDir(), "test")
	if err := store.Update("pod", func(lp *progress.LabProgress) { lp.Done = []string{"create-pod"} }); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := Run(context.Background(), Options{Labs: testLabs(), Progress: store, Lang: "en", Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	want := `Chapter progress: 1/5 steps done

LAB                    STATE        STEPS  TITLE
pod                    in progress  1/2    Pods: the smallest unit
deployment             not started  0/2    Deployments: managing the rollout of ReplicaSets and pods
service-nodeport       not started  0/1    NodePort services
`
	if out.String() != want {
		t.Errorf("plain output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestRealLabsRender opens every step of the labs built into kindlab in both
// languages: the lab text, not just the test chapter, must fit the window.
func TestRealLabsRender(t *testing.T) {
	t.Parallel()
	set, err := lab.Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, lang := range []string{"en", "ko"} {
		var m tea.Model = NewModel(ctx, Options{Labs: set, Engine: newFakeEngine(), Progress: progress.Open(t.TempDir(), "t"), Lang: lang})
		m, _ = m.Update(tea.WindowSizeMsg{Width: testWidth, Height: testHeight})
		for _, l := range set.Labs {
			m, _ = m.Update(openLabMsg{lab: l})
			for i := range l.Steps {
				root := m.(Model)
				root.step.idx = i
				root.step = root.step.layout()
				view := root.View().Content
				if n := strings.Count(view, "\n") + 1; n != testHeight {
					t.Errorf("%s %s/%s: %d lines", lang, l.ID, l.Steps[i].ID, n)
				}
				if !strings.Contains(view, l.Steps[i].Title.In(lang)) {
					t.Errorf("%s %s/%s: the step's title is not shown", lang, l.ID, l.Steps[i].ID)
				}
			}
			m, _ = m.Update(backMsg{})
		}
	}
}
