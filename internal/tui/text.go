package tui

import (
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

// tr picks the UI text in the learner's language. Lab text has its own
// translations (lab.Text); this is for the UI's own words.
func tr(lang, en, ko string) string {
	if lang == "ko" {
		return ko
	}
	return en
}

func otherLang(lang string) string {
	if lang == "ko" {
		return "en"
	}
	return "ko"
}

// labState is a lab's place in the learner's progress, decided the way
// `kindlab labs` decides it so both always agree.
type labState int

const (
	notStarted labState = iota
	inProgress
	labDone
)

func (s labState) word(lang string) string {
	switch s {
	case labDone:
		return tr(lang, "done", "완료")
	case inProgress:
		return tr(lang, "in progress", "진행 중")
	}
	return tr(lang, "not started", "시작 전")
}

func (s labState) mark() string {
	return [...]string{"○", "◐", "✓"}[s]
}

func stateOf(l *lab.Lab, lp *progress.LabProgress) labState {
	switch {
	case lp == nil:
		return notStarted
	case doneCount(l, lp) >= len(l.Steps):
		return labDone
	}
	return inProgress
}

// doneCount counts l's steps that are done; ids of steps a newer lab file no
// longer has do not count.
func doneCount(l *lab.Lab, lp *progress.LabProgress) int {
	n := 0
	for _, st := range l.Steps {
		if lp.IsDone(st.ID) {
			n++
		}
	}
	return n
}

// firstOpen is the step a lab opens at: the first not done, else the last.
func firstOpen(l *lab.Lab, lp *progress.LabProgress) int {
	for i, st := range l.Steps {
		if !lp.IsDone(st.ID) {
			return i
		}
	}
	return len(l.Steps) - 1
}

func labProgress(pf *progress.File, id string) *progress.LabProgress {
	if pf == nil {
		return nil
	}
	return pf.Labs[id]
}
