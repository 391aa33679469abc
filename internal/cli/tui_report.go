package cli

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/doctor"
	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/tui"
)

// uiReport turns what `up` says into events for the UI's start-up screen: a phase
// per section, a row per image build step and per kind step, a note per line of
// free text.
type uiReport struct {
	report func(tui.StartupEvent)
	mu     sync.Mutex
	phase  string
	buf    bytes.Buffer
	// checking is when the machine check began.
	checking time.Time
}

const checkingStep = "kindlab doctor: Docker, privileged containers, cgroup, disk, tools"

func newUIReport(report func(tui.StartupEvent)) *uiReport { return &uiReport{report: report} }

func (r *uiReport) current() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.phase
}

func (r *uiReport) section(phase, title string) {
	r.mu.Lock()
	r.phase = phase
	r.mu.Unlock()
	c, n := utf8.DecodeRuneInString(title)
	r.report(tui.StartupEvent{Phase: phase, Title: string(unicode.ToUpper(c)) + title[n:]})
	if phase == "machine" {
		r.checking = time.Now()
		r.report(tui.StartupEvent{Phase: phase, Step: checkingStep, State: tui.Running})
	}
}

func (r *uiReport) out() io.Writer   { return r }
func (r *uiReport) debug() io.Writer { return nil }

// Write takes free text and reports each whole line as a note.
func (r *uiReport) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.buf.Write(p)
	var lines []string
	for {
		i := bytes.IndexByte(r.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		lines = append(lines, strings.TrimRight(string(r.buf.Next(i+1)), "\n"))
	}
	phase := r.phase
	r.mu.Unlock()
	for _, l := range lines {
		r.report(tui.StartupEvent{Phase: phase, State: tui.Note, Text: l})
	}
	return len(p), nil
}

func (r *uiReport) machine(rep doctor.Report) {
	r.report(tui.StartupEvent{Phase: r.current(), Step: checkingStep, State: tui.Finished, Elapsed: time.Since(r.checking)})
	for _, f := range rep.Findings {
		st := tui.Finished
		if f.Severity == doctor.Fail {
			st = tui.Broken
		}
		step := f.Check + ": " + f.Detail
		if f.Severity != doctor.OK && f.Fix != "" {
			step += " — fix: " + f.Fix
		}
		r.report(tui.StartupEvent{Phase: r.current(), Step: step, State: st})
	}
}

func (r *uiReport) image(e images.Event) {
	st := map[images.State]tui.StartState{images.Started: tui.Running, images.Done: tui.Finished, images.Skipped: tui.UpToDate, images.Failed: tui.Broken}[e.State]
	r.report(tui.StartupEvent{Phase: r.current(), Step: e.Step, State: st, Elapsed: e.Elapsed})
}

func (r *uiReport) cluster(p cluster.Progress) {
	st := tui.Running
	switch {
	case p.Done:
		st = tui.Finished
	case p.Failed:
		st = tui.Broken
	}
	r.report(tui.StartupEvent{Phase: r.current(), Step: p.Step, State: st, Elapsed: p.Elapsed})
}
