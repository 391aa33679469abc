package tui

import (
	"context"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/progress"
)

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
