package tui

import (
	"bytes"
	"context"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

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
				// The viewport cuts what is wider than the window: nothing may be.
				root.step.showSolution = true
				for _, line := range strings.Split(root.step.body(), "\n") {
					if w := ansi.StringWidth(line); w > testWidth {
						t.Errorf("%s %s/%s: a line of the instructions is %d cells wide and would be cut: %q", lang, l.ID, l.Steps[i].ID, w, ansi.Strip(line))
					}
				}
			}
			m, _ = m.Update(backMsg{})
		}
	}
}
