package tui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/progress"
)

// seed: pod done, deployment opened with no step done, service-nodeport new.
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
		check.Result{Check: "revision-one", Status: check.Fail, Message: "deployment my-nginx-deployment has 1 ready replica; want 3",
			Diagnosis: "container nginx cannot pull image nginx:1.99: it is not available offline; this cluster's registry has nginx:latest, nginx:1.10, nginx:1.11"},
		check.Result{Check: "replicaset", Status: check.Pending},
	)
	h.golden("step_mixed")
	if lp := h.progress("deployment"); lp.IsDone("create-deployment") {
		t.Error("a step with a failing check was recorded as done")
	}
}

// A step is done only when its checks keep passing for the settle time: a
// pass that fails again before it (a readiness that flaps) records nothing.
func TestAFlappingPassDoesNotCompleteAStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	openDeployment(h)
	all := []check.Result{pass("applied"), pass("revision-one"), pass("replicaset")}
	deliver := func(rs ...check.Result) tea.Cmd {
		m, cmd := h.m.Update(resultsMsg{gen: h.m.step.watch.gen, results: rs})
		h.m = m.(Model)
		return cmd
	}
	settle := deliver(all...)                                                   // passes: the settle time starts
	deliver(pass("applied"), fail("revision-one", "1 of 3 pods ready"), all[2]) // flaps back before it ends
	h.run(settle)
	if lp := h.progress("deployment"); lp.IsDone("create-deployment") {
		t.Fatal("a pass that did not hold for the settle time completed the step")
	}
	h.results(all...) // passes again, and holds
	if lp := h.progress("deployment"); !lp.IsDone("create-deployment") {
		t.Fatalf("checks that held for the settle time did not complete the step: %+v", lp)
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

func TestNoOpenBeforeProgressLoads(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var m tea.Model = NewModel(ctx, Options{Labs: testLabs(), Engine: newFakeEngine(), Progress: progress.Open(t.TempDir(), "t"), Lang: "en"})
	if _, cmd := m.Update(keyPress("enter")); cmd != nil {
		t.Error("enter opened a lab before progress was read: a lab under way would get its setup again")
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
	if n := strings.Count(h.m.View().Content, "\n") + 1; n != testHeight {
		t.Errorf("after growing back the view has %d lines; want %d", n, testHeight)
	}
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

func TestAnswerTypedInTheStepScreen(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", nil)
	h.press("enter", "n")
	if h.m.step.step().ID != "exec" {
		t.Fatalf("on step %s", h.m.step.step().ID)
	}
	gen := h.m.step.watch.gen
	h.press("a", "q")
	if h.quit || h.m.step.input.Value() != "q" {
		t.Fatalf("q while typing an answer: quit=%v value=%q; want it typed", h.quit, h.m.step.input.Value())
	}
	h.press("esc")
	if h.m.step.prompting() || h.progress("pod").Answers["pod-ip"] != "" {
		t.Fatal("esc did not drop the answer")
	}
	h.press("a")
	for _, r := range "10.244.0.7" {
		h.press(string(r))
	}
	h.golden("step_answer")
	h.press("enter")
	if got := h.progress("pod").Answers["pod-ip"]; got != "10.244.0.7" {
		t.Fatalf("answer recorded %q", got)
	}
	if h.m.step.watch.gen == gen || !strings.Contains(h.m.step.status(), `"10.244.0.7" recorded`) {
		t.Errorf("after the answer: watch gen %d (was %d), status %q; want a new watch and a word", h.m.step.watch.gen, gen, h.m.step.status())
	}
	// A step without a question has no answer key.
	h.press("p", "a")
	if h.m.step.prompting() {
		t.Error("a opened a prompt on a step that asks nothing")
	}
}

// update delivers msg to the model without running the Cmds it returns: the
// start-up's Cmds wait on a goroutine the test does not run.
func (h *harness) update(msgs ...tea.Msg) {
	for _, msg := range msgs {
		m, _ := h.m.Update(msg)
		h.m = m.(Model)
	}
}

func TestStartupScreenShowsProgressThenTheLabs(t *testing.T) {
	t.Parallel()
	store := progress.Open(t.TempDir(), "test")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	eng := newFakeEngine()
	var recreates []bool
	startup := func(_ context.Context, recreate bool, _ func(StartupEvent)) (Engine, error) {
		recreates = append(recreates, recreate)
		return eng, nil
	}
	h := &harness{t: t, eng: eng, store: store,
		m: NewModel(ctx, Options{Labs: testLabs(), Progress: store, Lang: "en", Startup: startup}).resize(testWidth, testHeight)}
	if h.m.screen != startupScreen {
		t.Fatal("no engine and a start-up: the UI does not begin on the start-up screen")
	}
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	now := t0
	h.m.start.clock = func() time.Time { return now }
	h.m.start.run = 1
	h.m.start.began, h.m.start.running = t0, true
	ev := func(e StartupEvent) startupEventMsg { return startupEventMsg{run: 1, ev: e} }
	h.update(
		ev(StartupEvent{Phase: "machine", Title: "Checking this machine"}),
		ev(StartupEvent{Phase: "images", Title: "Building images (skips what is up to date)"}),
		ev(StartupEvent{Phase: "images", Step: "kind sources", State: UpToDate}),
		ev(StartupEvent{Phase: "images", Step: "kubernetes binaries", State: Running}),
	)
	now = t0.Add(75 * time.Second)
	h.update(
		ev(StartupEvent{Phase: "images", Step: "kubernetes binaries", State: Finished, Elapsed: 75 * time.Second}),
		ev(StartupEvent{Phase: "cluster", Title: `Creating cluster "kindlab"`}),
		ev(StartupEvent{Phase: "cluster", Step: "Ensuring node image (kindlab/node:v1.37.2)", State: Finished, Elapsed: 100 * time.Millisecond}),
		ev(StartupEvent{Phase: "cluster", Step: "Preparing nodes", State: Running}),
		ev(StartupEvent{Phase: "cluster", State: Note, Text: "images ready in 1m15s: node image kindlab/node:v1.37.2"}),
	)
	now = t0.Add(83 * time.Second)
	h.update(startupTickMsg{run: 1})
	h.golden("startup_running")
	// On a short screen the finished image build shrinks to one line.
	short := h.m.resize(testWidth, 9)
	if v := short.start.View(); !strings.Contains(v, "2 steps done (1 up to date)") || strings.Contains(v, "kind sources") {
		t.Errorf("short screen: finished phase not collapsed:\n%s", v)
	}

	// A failure says why and offers to try again; the retry keeps the recreate flag.
	h.update(startupDoneMsg{run: 1, err: errors.New("cluster not found: Docker does not answer; run `sudo kindlab doctor --fix`")})
	h.golden("startup_failed")
	if h.m.screen != startupScreen {
		t.Fatal("a failed start-up left the start-up screen")
	}
	// Stale news of an abandoned start-up is dropped.
	h.update(startupDoneMsg{run: 0, eng: eng})
	if h.m.screen != startupScreen {
		t.Fatal("the end of an older start-up was taken as this one's")
	}
	h.update(startupDoneMsg{run: 1, eng: eng})
	if h.m.screen != labList || h.m.d.eng == nil {
		t.Fatalf("after the start-up: screen %v, engine %v", h.m.screen, h.m.d.eng)
	}
}

func TestClusterDownOffersToRecreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "en", seed())
	h.update(healthMsg{err: errors.New("connection refused")})
	if strings.Contains(h.m.View().Content, "R recreates it") {
		t.Error("recreate offered by a UI that cannot start a cluster")
	}
	h.m.d.startup = func(context.Context, bool, func(StartupEvent)) (Engine, error) { return h.eng, nil }
	if !strings.Contains(h.m.View().Content, "R recreates it") {
		t.Fatalf("cluster down: no offer to recreate:\n%s", h.m.View().Content)
	}
	if !strings.Contains(h.m.View().Content, "U starts it again") {
		t.Fatalf("cluster down: no offer to start it again:\n%s", h.m.View().Content)
	}
	// U starts it again as `kindlab up` does, keeping what is in it; R recreates it.
	var recreated []bool
	var mu sync.Mutex
	h.m.d.startup = func(_ context.Context, recreate bool, _ func(StartupEvent)) (Engine, error) {
		mu.Lock()
		defer mu.Unlock()
		recreated = append(recreated, recreate)
		return h.eng, nil
	}
	m, _ := h.m.Update(keyPress("U"))
	h.m = m.(Model)
	if h.m.screen != startupScreen || !h.m.start.running {
		t.Fatalf("U did not start the cluster again: screen %v", h.m.screen)
	}
	h.m.d.background.Wait()
	h.m.screen, h.m.start.running = labList, false
	m, _ = h.m.Update(keyPress("R"))
	h.m = m.(Model)
	if h.m.screen != startupScreen || !h.m.start.running {
		t.Fatalf("R did not start recreating: screen %v", h.m.screen)
	}
	// Health news while the cluster is being recreated is not shown.
	h.update(healthMsg{err: errors.New("still down")})
	if h.m.clusterDown == nil {
		t.Log("ok")
	}
	h.m.d.background.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(recreated) != 2 || recreated[0] || !recreated[1] {
		t.Errorf("start-ups asked to recreate: %v, want [false true] (U keeps the cluster, R recreates it)", recreated)
	}
}

// downEngine is an engine whose cluster does not answer.
type downEngine struct{ *fakeEngine }

func (downEngine) Ping(context.Context) error { return errors.New("connection refused") }
func (downEngine) Nodes(context.Context) (int, int, error) {
	return 0, 0, errors.New("connection refused")
}

// A cluster recreated in another terminal answers under a new address: the
// health check takes a new session, and the step's checks go on against it.
func TestReconnectAfterTheClusterWasRecreatedElsewhere(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fresh := newFakeEngine()
	d := &deps{ctx: ctx, eng: downEngine{newFakeEngine()}}
	if msg, ok := checkHealth(d, 0)().(healthMsg); !ok || msg.err == nil {
		t.Fatalf("no reconnect: %#v, want the API's error", msg)
	}
	d.reconnect = func(context.Context) (Engine, error) { return nil, errors.New("still down") }
	if msg, ok := checkHealth(d, 0)().(healthMsg); !ok || msg.err == nil {
		t.Fatalf("a reconnect that fails: %#v, want the API's error", msg)
	}
	d.reconnect = func(context.Context) (Engine, error) { return fresh, nil }
	msg, ok := checkHealth(d, 0)().(reconnectedMsg)
	if !ok || msg.eng != fresh {
		t.Fatalf("a reconnect that works: %#v, want the new engine", msg)
	}

	h := newHarness(t, "en", seed())
	openDeployment(h)
	gen := h.m.step.gen
	h.send(healthMsg{err: errors.New("connection refused")})
	if h.m.clusterDown == nil {
		t.Fatal("the cluster's silence was not noticed")
	}
	h.send(msg)
	if h.m.d.eng != fresh || h.m.clusterDown != nil {
		t.Fatalf("after reconnecting: engine %T, down %v", h.m.d.eng, h.m.clusterDown)
	}
	if h.m.step.gen == gen || h.m.step.watch == nil {
		t.Error("the step's checks were not started again on the new session")
	}
}
