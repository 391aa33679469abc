package tui

import (
	"time"

	"context"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/learn"
	"github.com/kindlab/kindlab/internal/progress"
)

// prompt is the yes/no question the step screen is asking, if any.
type prompt int

const (
	noPrompt prompt = iota
	askSolve
	askReset
	// askAnswer reads the value a step's question asks for (a pod's IP, ...).
	askAnswer
)

// busy is the engine work in flight that the learner waits for.
type busy int

const (
	idle busy = iota
	starting
	solving
	resetting
)

// stepModel is the step screen: instructions, hints, solution and the step's
// checks, re-evaluated live while the learner works in another terminal.
type stepModel struct {
	d    *deps
	lang string
	st   styles
	md   *markdown

	width, height int
	pf            *progress.File

	lab *lab.Lab
	idx int
	// gen numbers watches so results of a cancelled one are dropped.
	gen     int
	watch   *watch
	results []check.Result
	// marking is the step whose "done" is being written, so a burst of passing
	// results writes it once.
	marking string
	// passSince is when the checks of this watch last began to all pass (zero:
	// they do not); the step is done when they keep passing for the settle time.
	passSince time.Time

	prompt       prompt
	busy         busy
	opCancel     context.CancelFunc
	showSolution bool
	// notice is the outcome of the last action (an error, or what was done).
	notice    string
	noticeBad bool

	// input reads an answer while prompt is askAnswer.
	input textinput.Model

	vp viewport.Model
	// shown identifies what vp holds; scrollEnd asks to show its end once
	// (a hint or the solution was just added there).
	shown     string
	scrollEnd bool
}

func newStepModel(d *deps, lang string, st styles) stepModel {
	vp := viewport.New()
	// Only the arrows and page keys scroll: the letters are the lab's keys.
	vp.KeyMap = viewport.KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k")),
		Down:     key.NewBinding(key.WithKeys("down", "j")),
		PageUp:   key.NewBinding(key.WithKeys("pgup")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "space")),
	}
	in := textinput.New()
	in.Prompt = "› "
	in.CharLimit = 200
	return stepModel{d: d, lang: lang, st: st, md: &markdown{}, vp: vp, input: in}
}

// answerCheck is the step's question, if it asks one.
func (m stepModel) answerCheck() *lab.Check {
	for i := range m.step().Checks {
		if c := &m.step().Checks[i]; c.Answer != nil {
			return c
		}
	}
	return nil
}

func (m stepModel) step() *lab.Step { return &m.lab.Steps[m.idx] }

func (m stepModel) progress() *progress.LabProgress { return labProgress(m.pf, m.lab.ID) }

func (m stepModel) prompting() bool { return m.prompt != noPrompt }

func (m stepModel) keys() stepKeys {
	k := newStepKeys(m.lang)
	k.Answer.SetEnabled(m.lab != nil && m.answerCheck() != nil)
	return k
}

// open shows lab l at its first step not done and starts it: its manifests, its
// setup when the lab is new, and the step recorded as current.
func (m stepModel) open(l *lab.Lab) (stepModel, tea.Cmd) {
	lp := labProgress(m.pf, l.ID)
	m.lab, m.idx = l, firstOpen(l, lp)
	m = m.clearStep()
	m.busy = starting
	return m.layout(), tea.Batch(startLab(m.d, l, lp == nil), m.recordCurrent())
}

// leave stops the live checks; the stopped watch is kept so the next one waits
// for it before touching the engine.
func (m stepModel) leave() stepModel {
	if m.watch != nil {
		m.watch.cancel()
	}
	if m.opCancel != nil {
		m.opCancel()
	}
	m.lab = nil
	return m
}

func (m stepModel) clearStep() stepModel {
	m.results, m.marking = nil, ""
	m.prompt, m.showSolution = noPrompt, false
	m.notice, m.noticeBad = "", false
	m.scrollEnd = false
	m.vp.GotoTop()
	return m
}

func (m stepModel) setSize(width, height int) stepModel {
	m.width, m.height = width, height
	return m.layout()
}

func (m stepModel) Update(msg tea.Msg) (stepModel, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case progressMsg:
		if msg.file != nil {
			m.pf = msg.file
			if m.lab != nil && m.progress().IsDone(m.marking) {
				m.marking = ""
			}
		}
	case resultsMsg:
		m, cmd = m.onResults(msg)
	case settledMsg:
		m, cmd = m.onSettled(msg)
	case labStartedMsg:
		m, cmd = m.onStarted(msg)
	case solvedMsg:
		m, cmd = m.onSolved(msg)
	case resetMsg:
		m, cmd = m.onReset(msg)
	case answeredMsg:
		m, cmd = m.onAnswered(msg)
	case tea.KeyPressMsg:
		if m.prompt == askAnswer {
			m, cmd = m.typeAnswer(msg)
		} else if m.prompting() {
			m, cmd = m.answer(msg)
		} else {
			m, cmd = m.onKey(msg)
		}
	}
	return m.layout(), cmd
}

func (m stepModel) onResults(msg resultsMsg) (stepModel, tea.Cmd) {
	// Results of an older watch (another step, another lab) are not this step's.
	if m.lab == nil || m.watch == nil || msg.gen != m.watch.gen {
		return m, nil
	}
	m.results = msg.results
	next := m.watch.next()
	st := m.step()
	if !engine.AllPass(msg.results) {
		m.passSince = time.Time{}
		return m, next
	}
	if m.progress().IsDone(st.ID) || m.marking == st.ID || !m.passSince.IsZero() {
		return m, next
	}
	// Every check passes: the step is done by itself, as `kindlab check` records
	// it, once they keep passing for the settle time.
	since := time.Now()
	m.passSince = since
	gen := msg.gen
	if m.d.settle < 0 {
		m, cmd := m.onSettled(settledMsg{gen: gen, since: since})
		return m, tea.Batch(next, cmd)
	}
	return m, tea.Batch(next, tea.Tick(m.d.settle, func(time.Time) tea.Msg { return settledMsg{gen: gen, since: since} }))
}

// onSettled records the step done when its checks have passed since msg.since.
func (m stepModel) onSettled(msg settledMsg) (stepModel, tea.Cmd) {
	if m.lab == nil || m.watch == nil || msg.gen != m.watch.gen || !m.passSince.Equal(msg.since) || !engine.AllPass(m.results) {
		return m, nil
	}
	st := m.step()
	if m.progress().IsDone(st.ID) || m.marking == st.ID {
		return m, nil
	}
	m.marking = st.ID
	id := st.ID
	return m, updateProgress(m.d.store, m.lab.ID, func(lp *progress.LabProgress) { lp.MarkDone(id) })
}

func (m stepModel) onKey(k tea.KeyPressMsg) (stepModel, tea.Cmd) {
	keys := m.keys()
	if m.busy != idle {
		// Engine work is changing the cluster; only reading and quitting make sense.
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(k)
		return m, cmd
	}
	switch {
	case matches(k, keys.Back):
		return m.leave(), send(backMsg{})
	case matches(k, keys.Next):
		return m.move(+1)
	case matches(k, keys.Prev):
		return m.move(-1)
	case matches(k, keys.Hint):
		return m.nextHint()
	case matches(k, keys.Solution), matches(k, keys.Perform):
		m.showSolution, m.scrollEnd, m.prompt = true, true, askSolve
		return m, nil
	case matches(k, keys.Reset):
		m.prompt = askReset
		return m, nil
	case matches(k, keys.Answer) && keys.Answer.Enabled():
		m.prompt = askAnswer
		m.input.Reset()
		if lp := m.progress(); lp != nil {
			m.input.SetValue(lp.Answers[m.answerCheck().ID])
			m.input.CursorEnd()
		}
		return m, m.input.Focus()
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(k)
	return m, cmd
}

func (m stepModel) answer(k tea.KeyPressMsg) (stepModel, tea.Cmd) {
	p := m.prompt
	m.prompt = noPrompt
	if !matches(k, newPromptKeys(m.lang).Yes) {
		return m, nil
	}
	if p == askReset {
		return m.reset()
	}
	return m.solve()
}

func (m stepModel) move(delta int) (stepModel, tea.Cmd) {
	i := m.idx + delta
	if i < 0 || i >= len(m.lab.Steps) {
		return m, nil
	}
	m.idx = i
	m = m.clearStep()
	m, watch := m.watchStep()
	return m, tea.Batch(watch, m.recordCurrent())
}

// watchStep starts the live checks of the current step, replacing any others.
func (m stepModel) watchStep() (stepModel, tea.Cmd) {
	m.gen++
	var answers map[string]string
	if lp := m.progress(); lp != nil {
		answers = lp.Answers
	}
	var cmd tea.Cmd
	m.watch, cmd = startWatch(m.d.ctx, m.d.eng, m.watch, m.gen, m.step(), answers)
	m.results, m.passSince = nil, time.Time{}
	return m, cmd
}

func (m stepModel) nextHint() (stepModel, tea.Cmd) {
	st := m.step()
	total := len(st.Hints)
	if learn.HintsSeen(m.progress(), st) >= total {
		m.notice, m.noticeBad = tr(m.lang, "That was the last hint; s shows the solution.", "마지막 힌트였습니다. s 를 누르면 정답을 볼 수 있습니다."), false
		return m, nil
	}
	m.scrollEnd = true
	store, l := m.d.store, m.lab
	// Counted from the stored value, not this snapshot, so no hint is lost to a
	// write still in flight or to `kindlab hint` in another terminal.
	return m, func() tea.Msg {
		_, _, err := learn.Learner{Store: store}.Hint(l, st)
		return snapshot(store, err)
	}
}

func (m stepModel) recordCurrent() tea.Cmd {
	id := m.step().ID
	return updateProgress(m.d.store, m.lab.ID, func(lp *progress.LabProgress) { lp.Current = id })
}
