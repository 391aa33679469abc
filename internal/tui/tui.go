// Package tui is kindlab's terminal UI, built with Bubble Tea: a list of the
// chapter's labs with the learner's progress, and a screen per step whose checks
// update live while the learner works with kubectl in another terminal. When
// output is not a terminal it prints the lab list as plain text instead.
package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/term"

	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

// Options are what the UI works with.
type Options struct {
	Labs     *lab.Set
	Engine   Engine
	Progress *progress.Store
	// Lang is "ko" or "en"; the learner can switch with l.
	Lang string
	// WorkDir is where a lab's manifests are for the learner; nil: not shown.
	WorkDir func(*lab.Lab) string
	// WriteFiles writes a lab's manifests that are missing into its WorkDir
	// when the lab is opened; nil: nothing is written.
	WriteFiles func(*lab.Lab) error
	// SolveTimeout bounds the wait for the checks after a solution (default 3m).
	SolveTimeout time.Duration
	// Settle is how long a step's checks must keep passing before the step is
	// done (0: engine.Settle; negative: at once).
	Settle time.Duration
	// Namespace the labs run in; fills {namespace} in instructions.
	Namespace string
	// Startup, when Engine is nil, brings the cluster up on the start-up screen
	// and returns the engine; the UI also offers it to recreate a cluster that
	// stopped answering. Recreate makes the first start-up delete the cluster.
	Startup  Startup
	Recreate bool
	// Reconnect, when not nil, is tried when the cluster stops answering: a new
	// session, for a cluster recreated elsewhere (`kindlab up --recreate` in
	// another terminal). It must return only an engine that answers.
	Reconnect func(context.Context) (Engine, error)

	In  io.Reader
	Out io.Writer
}

// IsTerminal reports whether w is a terminal the UI can draw on.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

// Run shows the UI until the learner quits or ctx ends. When o.Out is not a
// terminal it prints the lab list as plain text and returns.
func Run(ctx context.Context, o Options) error {
	if !IsTerminal(o.Out) {
		pf, err := o.Progress.Load()
		if err != nil {
			return err
		}
		return PrintLabs(o.Out, o.Labs, pf, o.Lang)
	}
	uiCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := []tea.ProgramOption{tea.WithContext(uiCtx), tea.WithOutput(o.Out)}
	// Bubble Tea opens the terminal itself when stdin is not one (kindlab tui < file).
	if f, ok := o.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts = append(opts, tea.WithInput(f))
	}
	model := NewModel(uiCtx, o)
	final, err := tea.NewProgram(model, opts...).Run()
	cancel()
	// A start-up stopped by Ctrl-C deletes what it half-made before returning.
	bg := make(chan struct{})
	go func() { model.d.background.Wait(); close(bg) }()
	select {
	case <-bg:
	case <-time.After(2 * time.Minute):
	}
	if m, ok := final.(Model); ok {
		// Let the last evaluation finish before the caller closes the session.
		if done := m.watchDone(); done != nil {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
			}
		}
	}
	switch {
	case errors.Is(err, tea.ErrInterrupted), errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil:
		// Ctrl-C as a signal, or SIGTERM through the command's context: the CLI
		// reports both as an interruption.
		return context.Canceled
	}
	return err
}
