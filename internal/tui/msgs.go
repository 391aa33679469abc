package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

// progressMsg carries a fresh snapshot of the progress file. Snapshots are never
// changed after loading: every change is a write followed by a new snapshot, so
// screens can hold the pointer without sharing mutable state.
type progressMsg struct {
	file    *progress.File
	warning string
	err     error
}

// resultsMsg is one evaluation from the watch of generation gen.
type resultsMsg struct {
	gen     int
	results []check.Result
}

// settledMsg comes a settle time after the checks of the watch of generation
// gen all passed at since: the step is done if they have passed ever since.
type settledMsg struct {
	gen   int
	since time.Time
}

// openLabMsg asks the root to show a lab's step screen.
type openLabMsg struct{ lab *lab.Lab }

// backMsg asks the root to show the lab list.
type backMsg struct{}

// labStartedMsg ends the work of opening a lab (files, setup, progress).
type labStartedMsg struct {
	lab string
	err error
}

// solvedMsg ends a solve: the results Solve saw last and why it stopped.
type solvedMsg struct {
	lab, step string
	results   []check.Result
	err       error
	// progress is the snapshot after the step was marked done.
	progress progressMsg
}

// answeredMsg ends the recording of an answer typed in the step screen.
type answeredMsg struct {
	lab, step, value string
	progress         progressMsg
}

// resetMsg ends a reset of a lab.
type resetMsg struct {
	lab      string
	err      error
	progress progressMsg
}

func send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

// loadProgress reads the progress file.
func loadProgress(s *progress.Store) tea.Cmd {
	return func() tea.Msg { return snapshot(s, nil) }
}

// updateProgress changes one lab's progress and reports the new snapshot.
func updateProgress(s *progress.Store, labID string, fn func(*progress.LabProgress)) tea.Cmd {
	return func() tea.Msg { return snapshot(s, s.Update(labID, fn)) }
}

func snapshot(s *progress.Store, err error) progressMsg {
	if err != nil {
		return progressMsg{err: err}
	}
	f, err := s.Load()
	return progressMsg{file: f, warning: s.TakeWarning(), err: err}
}
