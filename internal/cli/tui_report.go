package cli

import (
	"bytes"
	"fmt"
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
	lang   string
	mu     sync.Mutex
	phase  string
	buf    bytes.Buffer
	// checking is when the machine check began.
	checking time.Time
}

const checkingStep = "kindlab doctor: Docker, privileged containers, cgroup, disk, tools"

func newUIReport(report func(tui.StartupEvent), lang string) *uiReport {
	return &uiReport{report: report, lang: lang}
}

// koTitles are the sections of `up` in Korean; %s is the cluster's name.
var koTitles = []struct{ en, ko string }{
	{"checking this machine", "이 컴퓨터 점검"},
	{"building images (skips what is up to date)", "이미지 빌드 (최신인 단계는 건너뜀)"},
	{"creating cluster %s", "클러스터 %s 생성"},
	{"reusing cluster %s", "클러스터 %s 재사용"},
	{"deleting cluster %s (--recreate)", "클러스터 %s 삭제 (다시 만들기)"},
}

// title is a section's title in the report's language, capitalised.
func (r *uiReport) title(t string) string {
	if r.lang == "ko" {
		for _, k := range koTitles {
			pre, post, named := strings.Cut(k.en, "%s")
			if !named {
				if t == k.en {
					return k.ko
				}
				continue
			}
			if name, ok := strings.CutPrefix(t, pre); ok {
				if name, ok = strings.CutSuffix(name, post); ok {
					return fmt.Sprintf(k.ko, name)
				}
			}
		}
	}
	c, n := utf8.DecodeRuneInString(t)
	return string(unicode.ToUpper(c)) + t[n:]
}

func (r *uiReport) current() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.phase
}

func (r *uiReport) section(phase, title string) {
	r.mu.Lock()
	r.phase = phase
	r.mu.Unlock()
	r.report(tui.StartupEvent{Phase: phase, Title: r.title(title)})
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
