package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/learn"
	"github.com/kindlab/kindlab/internal/progress"
)

// startLab writes the lab's missing manifests where the learner works and, for a
// lab never opened, runs its first step's setup as `kindlab start` does. A lab
// already under way is left as the learner left it.
func startLab(d *deps, l *lab.Lab, fresh bool) tea.Cmd {
	ctx, eng := d.ctx, d.eng
	return func() tea.Msg {
		var errs []error
		if d.writeFiles != nil {
			if err := d.writeFiles(l); err != nil {
				errs = append(errs, err)
			}
		}
		if fresh {
			if err := (learn.Learner{Store: d.store, Eng: eng}).Start(ctx, l, true); err != nil {
				errs = append(errs, err)
			}
		}
		return labStartedMsg{lab: l.ID, err: errors.Join(errs...)}
	}
}

// waitStopped waits until the live checks have stopped, or ctx ends first.
func waitStopped(ctx context.Context, stopped <-chan struct{}) bool {
	select {
	case <-stopped:
		return true
	default:
	}
	select {
	case <-stopped:
		return true
	case <-ctx.Done():
		return false
	}
}

func (m stepModel) onStarted(msg labStartedMsg) (stepModel, tea.Cmd) {
	if m.lab == nil || msg.lab != m.lab.ID || m.busy != starting {
		return m, nil
	}
	m.busy = idle
	if msg.err != nil {
		m.notice, m.noticeBad = msg.err.Error(), true
	}
	return m.watchStep()
}

// solve performs the step's reference solution. The live checks stop first:
// the solution may record answers, which the watch's evaluations read.
func (m stepModel) solve() (stepModel, tea.Cmd) {
	ctx, cancel := context.WithCancel(m.d.ctx)
	m.busy, m.opCancel, m.notice = solving, cancel, ""
	stopped := m.watch.stop()
	d, l, st := m.d, m.lab, m.step()
	return m, func() tea.Msg {
		defer cancel()
		if !waitStopped(ctx, stopped) {
			return solvedMsg{lab: l.ID, step: st.ID, err: ctx.Err()}
		}
		rs, err := learn.Learner{Store: d.store, Eng: d.eng}.Solve(ctx, l, st, d.solveTimeout)
		msg := solvedMsg{lab: l.ID, step: st.ID, results: rs, err: err}
		if err == nil {
			// The new watch needs the answers the solution recorded.
			msg.progress = snapshot(d.store, nil)
			msg.err = msg.progress.err
		}
		return msg
	}
}

func (m stepModel) onSolved(msg solvedMsg) (stepModel, tea.Cmd) {
	if m.lab == nil || msg.lab != m.lab.ID || m.busy != solving {
		return m, nil
	}
	m.busy, m.opCancel = idle, nil
	if msg.step != m.step().ID {
		return m, loadProgress(m.d.store)
	}
	if msg.err != nil {
		m.notice, m.noticeBad = msg.err.Error(), true
	} else {
		m.notice, m.noticeBad = tr(m.lang, "Solution performed: every check passes.", "정답을 실행했습니다: 모든 검사를 통과합니다."), false
	}
	if msg.progress.file != nil {
		m.pf = msg.progress.file
	}
	m, watch := m.watchStep()
	if msg.results != nil {
		// Show what Solve saw until the new watch reports.
		m.results = msg.results
	}
	return m, tea.Batch(watch, send(msg.progress))
}

// reset removes what the lab and the learner created, forgets the lab's
// progress and sets its first step up again, as a new lab.
func (m stepModel) reset() (stepModel, tea.Cmd) {
	ctx, cancel := context.WithCancel(m.d.ctx)
	m.busy, m.opCancel, m.notice = resetting, cancel, ""
	stopped := m.watch.stop()
	d, l := m.d, m.lab
	return m, func() tea.Msg {
		defer cancel()
		if !waitStopped(ctx, stopped) {
			return resetMsg{lab: l.ID, err: ctx.Err()}
		}
		w := learn.Learner{Store: d.store, Eng: d.eng}
		if err := w.Reset(ctx, l); err != nil {
			return resetMsg{lab: l.ID, err: err}
		}
		// As a new lab: its first step set up again.
		err := w.Start(ctx, l, true)
		// The new watch must not see the answers the reset forgot.
		return resetMsg{lab: l.ID, err: err, progress: snapshot(d.store, nil)}
	}
}

func (m stepModel) onReset(msg resetMsg) (stepModel, tea.Cmd) {
	if m.lab == nil || msg.lab != m.lab.ID || m.busy != resetting {
		return m, nil
	}
	m.busy, m.opCancel = idle, nil
	m.idx = 0
	m = m.clearStep()
	if msg.err != nil {
		m.notice, m.noticeBad = msg.err.Error(), true
	} else {
		m.notice = tr(m.lang, "Lab reset: back to its first step, as new.", "실습을 초기화했습니다: 처음 단계부터 새로 시작합니다.")
	}
	if msg.progress.file != nil {
		m.pf = msg.progress.file
	}
	m, watch := m.watchStep()
	return m, tea.Batch(watch, send(msg.progress))
}

// typeAnswer edits the answer being typed: enter records it, esc drops it.
func (m stepModel) typeAnswer(k tea.KeyPressMsg) (stepModel, tea.Cmd) {
	keys := newInputKeys(m.lang)
	switch {
	case key.Matches(k, keys.Cancel):
		m.prompt = noPrompt
		m.input.Blur()
		return m, nil
	case key.Matches(k, keys.Enter):
		m.prompt = noPrompt
		m.input.Blur()
		value := strings.TrimSpace(m.input.Value())
		if value == "" {
			return m, nil
		}
		return m, recordAnswer(m.d.store, m.lab, m.step(), value)
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(k)
	return m, cmd
}

// recordAnswer stores an answer in the progress file, as `kindlab answer` does.
func recordAnswer(s *progress.Store, l *lab.Lab, st *lab.Step, value string) tea.Cmd {
	return func() tea.Msg {
		_, err := learn.Learner{Store: s}.Answer(l, st, value)
		return answeredMsg{lab: l.ID, step: st.ID, value: value, progress: snapshot(s, err)}
	}
}

// onAnswered restarts the live checks with the new answer, so the verdict on it
// comes at once.
func (m stepModel) onAnswered(msg answeredMsg) (stepModel, tea.Cmd) {
	if msg.progress.file != nil {
		m.pf = msg.progress.file
	}
	if m.lab == nil || msg.lab != m.lab.ID || msg.step != m.step().ID {
		return m, nil
	}
	if msg.progress.err != nil {
		m.notice, m.noticeBad = msg.progress.err.Error(), true
		return m, nil
	}
	m.notice, m.noticeBad = fmt.Sprintf(tr(m.lang, "Answer %q recorded.", "답 %q 을(를) 기록했습니다."), msg.value), false
	return m.watchStep()
}
