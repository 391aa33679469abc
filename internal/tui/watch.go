package tui

import (
	"context"
	"maps"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
)

// watchInterval re-runs the checks that talk to the network; object checks follow
// the informer cache and re-run on every change anyway.
const watchInterval = 2 * time.Second

// watch is one run of Engine.Watch for one step. Its results come over ch, read by
// a Cmd that is re-armed after each message, so the engine never runs ahead of
// the screen and nothing is read after cancel.
type watch struct {
	gen    int
	ctx    context.Context
	cancel context.CancelFunc
	ch     chan []check.Result
	// done closes when Engine.Watch has returned.
	done chan struct{}
}

// startWatch cancels the running watch (if any) and starts one for st with the
// learner's answers, once the previous Watch has returned (so two never evaluate
// at once).
func startWatch(parent context.Context, eng Engine, prev *watch, gen int, st *lab.Step, answers map[string]string) (*watch, tea.Cmd) {
	var prevDone chan struct{}
	if prev != nil {
		prev.cancel()
		prevDone = prev.done
	}
	ctx, cancel := context.WithCancel(parent)
	w := &watch{gen: gen, ctx: ctx, cancel: cancel, ch: make(chan []check.Result), done: make(chan struct{})}
	answers = maps.Clone(answers)
	return w, func() tea.Msg {
		if prevDone != nil {
			<-prevDone
		}
		if ctx.Err() != nil {
			// Replaced before it began (the learner pressed n n n): never start it.
			close(w.done)
			return nil
		}
		go func() {
			defer close(w.done)
			eng.Watch(ctx, st, answers, watchInterval, w.ch)
		}()
		return w.next()()
	}
}

// next waits for the watch's next results.
func (w *watch) next() tea.Cmd {
	return func() tea.Msg {
		select {
		case rs := <-w.ch:
			return resultsMsg{gen: w.gen, results: rs}
		case <-w.ctx.Done():
			return nil
		}
	}
}

// stop cancels the watch and returns a channel that closes once Engine.Watch has
// returned, for work that must not overlap an evaluation (solve, reset).
func (w *watch) stop() <-chan struct{} {
	if w == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	w.cancel()
	return w.done
}
