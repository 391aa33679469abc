package tui

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Golden views are drawn at this size unless a test resizes.
const testWidth, testHeight = 100, 30

// fakeEngine stands in for *engine.Session. Its Watch hands each call's output
// channel to the test, so the test decides when results arrive.
type fakeEngine struct {
	mu       sync.Mutex
	watches  []fakeWatch
	watching chan fakeWatch
	setups   []string
	resets   []string
	solves   []string
	// watchAnswers are the answers each Watch was given.
	watchAnswers []map[string]string
	// solveAnswers are what a solution's answer actions record.
	solveAnswers map[string]string
	solveRes     []check.Result
	solveErr     error
}

type fakeWatch struct {
	step string
	ctx  context.Context
	out  chan<- []check.Result
}

func newFakeEngine() *fakeEngine { return &fakeEngine{watching: make(chan fakeWatch, 16)} }

func (f *fakeEngine) Watch(ctx context.Context, st *lab.Step, answers map[string]string, _ time.Duration, out chan<- []check.Result) {
	w := fakeWatch{step: st.ID, ctx: ctx, out: out}
	f.mu.Lock()
	f.watches = append(f.watches, w)
	f.watchAnswers = append(f.watchAnswers, maps.Clone(answers))
	f.mu.Unlock()
	f.watching <- w
	<-ctx.Done()
}

func (f *fakeEngine) Setup(_ context.Context, l *lab.Lab, st *lab.Step) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setups = append(f.setups, l.ID+"/"+st.ID)
	return nil
}

func (f *fakeEngine) Solve(_ context.Context, l *lab.Lab, st *lab.Step, answers map[string]string, _ time.Duration) ([]check.Result, map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.solves = append(f.solves, l.ID+"/"+st.ID)
	got := maps.Clone(answers)
	if got == nil {
		got = map[string]string{}
	}
	maps.Copy(got, f.solveAnswers)
	return f.solveRes, got, f.solveErr
}

func (f *fakeEngine) Reset(_ context.Context, l *lab.Lab) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets = append(f.resets, l.ID)
	return nil
}

func (f *fakeEngine) SetLang(string) {}

func (f *fakeEngine) Ping(context.Context) error { return nil }
func (f *fakeEngine) Nodes(context.Context) (int, int, error) {
	return 2, 3, nil
}

func txt(en, ko string) lab.Text { return lab.Text{En: en, Ko: ko} }

// testLabs is a small chapter of its own, so golden files change only when the
// UI does, not when the real labs are edited.
func testLabs() *lab.Set {
	return &lab.Set{Labs: []*lab.Lab{
		{
			ID: "pod", Order: 1,
			Title: txt("Pods: the smallest unit", "포드(Pod): 가장 작은 단위"),
			Goal:  txt("Run a pod and look inside it.", "포드를 실행하고 안을 들여다봅니다."),
			Steps: []lab.Step{
				{ID: "create-pod", Title: txt("Create the pod", "포드 만들기")},
				{ID: "exec", Title: txt("Run a command in it", "포드 안에서 명령 실행"),
					Checks: []lab.Check{{ID: "pod-ip", Title: txt("You read the pod's IP", "포드의 IP 를 읽음"),
						Answer: &lab.AnswerCheck{Question: txt("The pod's IP?", "포드의 IP 는?"), Truth: "podIP", Object: "my-nginx-pod"}}}},
			},
		},
		{
			ID: "deployment", Order: 2,
			Title: txt("Deployments: managing the rollout of ReplicaSets and pods", "디플로이먼트(Deployment): 레플리카셋과 포드의 배포를 관리"),
			Goal:  txt("Run three nginx pods with a Deployment and roll it back.", "디플로이먼트로 nginx 포드 3개를 만들고 롤백합니다."),
			Steps: []lab.Step{
				{
					ID:    "create-deployment",
					Title: txt("Create the Deployment", "디플로이먼트 만들기"),
					Instructions: txt(
						"`my-nginx-deployment` in `deployment-nginx.yaml` runs three `nginx:1.10` pods.\n```\nkubectl apply -f deployment-nginx.yaml --record\nkubectl get deploy\n```\nThe Deployment made a ReplicaSet, which made the pods.",
						"`deployment-nginx.yaml` 의 `my-nginx-deployment` 는 `nginx:1.10` 포드 3개를 실행합니다.\n```\nkubectl apply -f deployment-nginx.yaml --record\nkubectl get deploy\n```\n디플로이먼트가 레플리카셋을, 레플리카셋이 포드를 만들었습니다."),
					Checks: []lab.Check{
						{ID: "applied", Title: txt("my-nginx-deployment was created with kubectl apply", "my-nginx-deployment 가 kubectl apply 로 생성됨")},
						{ID: "revision-one", Title: txt("Revision 1, image nginx:1.10, three pods Ready", "리비전 1, 이미지 nginx:1.10, 포드 3개 Ready")},
						{ID: "replicaset", Title: txt("The Deployment made an nginx:1.10 ReplicaSet", "디플로이먼트가 nginx:1.10 레플리카셋을 만듦")},
					},
					Hints: []lab.Text{
						txt("A Deployment is created by applying its YAML file too.", "디플로이먼트도 YAML 파일을 apply 해서 만듭니다."),
						txt("`kubectl apply -f <file> --record`, then wait for READY 3/3.", "`kubectl apply -f <파일> --record` 후 READY 가 3/3 이 될 때까지 기다리세요."),
						txt("`kubectl apply -f deployment-nginx.yaml --record`", "`kubectl apply -f deployment-nginx.yaml --record`"),
					},
					Solution: lab.Solution{Commands: []string{"kubectl apply -f deployment-nginx.yaml --record"}},
				},
				{
					ID:           "new-revision",
					Title:        txt("Make a new revision", "새 리비전 만들기"),
					Instructions: txt("Change the image to `nginx:1.11`.", "이미지를 `nginx:1.11` 로 바꿉니다."),
					Checks:       []lab.Check{{ID: "revision-two", Title: txt("Revision 2 runs nginx:1.11", "리비전 2 가 nginx:1.11 을 실행함")}},
					Hints:        []lab.Text{txt("kubectl set image", "kubectl set image")},
					Solution:     lab.Solution{Commands: []string{"kubectl set image deployment my-nginx-deployment nginx=nginx:1.11 --record"}},
				},
			},
		},
		{
			ID: "service-nodeport", Order: 3,
			Title: txt("NodePort services", "NodePort 서비스"),
			Goal:  txt("Reach pods from outside the cluster.", "클러스터 밖에서 포드에 접근합니다."),
			Steps: []lab.Step{{ID: "create-service", Title: txt("Create the service", "서비스 만들기")}},
		},
	}}
}

// harness drives a Model as Bubble Tea would, but synchronously: Update, then
// every Cmd it returns, feeding their messages back. Its context is cancelled,
// so no watch starts and no Cmd blocks; results are fed by the test.
type harness struct {
	t     *testing.T
	m     Model
	eng   *fakeEngine
	store *progress.Store
	quit  bool
}

func newHarness(t *testing.T, lang string, seed map[string]*progress.LabProgress) *harness {
	t.Helper()
	store := progress.Open(t.TempDir(), "test")
	for id, lp := range seed {
		if err := store.Update(id, func(p *progress.LabProgress) { *p = *lp }); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	eng := newFakeEngine()
	m := NewModel(ctx, Options{
		Labs: testLabs(), Engine: eng, Progress: store, Lang: lang,
		WorkDir: func(l *lab.Lab) string { return "/home/learner/kindlab/" + l.ID },
		Settle:  time.Millisecond,
	})
	h := &harness{t: t, m: m, eng: eng, store: store}
	h.run(m.Init())
	h.send(tea.WindowSizeMsg{Width: testWidth, Height: testHeight})
	return h
}

func (h *harness) send(msgs ...tea.Msg) {
	for _, msg := range msgs {
		m, cmd := h.m.Update(msg)
		h.m = m.(Model)
		h.run(cmd)
	}
}

func (h *harness) run(cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			h.quit = true
		default:
			m, next := h.m.Update(msg)
			h.m = m.(Model)
			queue = append(queue, next)
		}
	}
}

// press sends keys by name: "n", "S", "enter", "esc", "down", "ctrl+c".
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.send(keyPress(k))
	}
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	if r >= 'A' && r <= 'Z' {
		// What a terminal reports for shift+letter.
		return tea.KeyPressMsg{Code: r + 'a' - 'A', ShiftedCode: r, Mod: tea.ModShift, Text: k}
	}
	return tea.KeyPressMsg{Code: r, Text: k}
}

// results feeds the current watch a set of verdicts, as Engine.Watch would.
func (h *harness) results(rs ...check.Result) {
	h.t.Helper()
	if h.m.step.watch == nil {
		h.t.Fatal("no watch to deliver results to")
	}
	h.send(resultsMsg{gen: h.m.step.watch.gen, results: rs})
}

func pass(id string) check.Result { return check.Result{Check: id, Status: check.Pass} }
func fail(id, msg string) check.Result {
	return check.Result{Check: id, Status: check.Fail, Message: msg}
}

// golden compares the view, drawn with no colour (Ascii: attributes only), with
// testdata/NAME.golden, and checks that it fills the window and no more.
func (h *harness) golden(name string) {
	h.t.Helper()
	var buf bytes.Buffer
	w := &colorprofile.Writer{Forward: &buf, Profile: colorprofile.Ascii}
	if _, err := w.WriteString(h.m.View().Content); err != nil {
		h.t.Fatal(err)
	}
	got := buf.Bytes()
	lines := strings.Split(string(got), "\n")
	if len(lines) != h.m.height {
		h.t.Errorf("%s: view has %d lines; want the window's %d", name, len(lines), h.m.height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > h.m.width {
			h.t.Errorf("%s: line %d is %d cells wide; the window is %d: %q", name, i+1, w, h.m.width, ansi.Strip(l))
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.t.Fatalf("%v (create it with go test ./internal/tui -update)", err)
	}
	if !bytes.Equal(got, want) {
		h.t.Errorf("view differs from %s (accept with go test ./internal/tui -update); got, without attributes:\n%s\nwant:\n%s",
			path, ansi.Strip(string(got)), ansi.Strip(string(want)))
	}
}

func (h *harness) progress(labID string) *progress.LabProgress {
	h.t.Helper()
	pf, err := h.store.Load()
	if err != nil {
		h.t.Fatal(err)
	}
	return pf.Labs[labID]
}
