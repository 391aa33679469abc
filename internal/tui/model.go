package tui

import (
	"github.com/kindlab/kindlab/internal/engine"

	"context"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

// screen is what the root model shows.
type screen int

const (
	labList screen = iota
	stepScreen
	// startupScreen brings the cluster up (or back) before the labs.
	startupScreen
)

// deps are what every screen uses and none changes.
type deps struct {
	// ctx is held here because Update takes none: it ends when the UI does,
	// and every Cmd that calls the engine derives from it.
	ctx          context.Context
	eng          Engine
	store        *progress.Store
	workDir      func(*lab.Lab) string
	writeFiles   func(*lab.Lab) error
	solveTimeout time.Duration
	// settle is how long a step's checks must keep passing before it is done.
	settle    time.Duration
	namespace string
	// startup brings the cluster up; nil when the UI starts on a ready engine.
	startup Startup
	// reconnect, when not nil, opens a new session to the cluster when the old
	// one stops answering (the cluster was recreated elsewhere: its address and
	// credentials changed). It returns only an engine that answers.
	reconnect func(context.Context) (Engine, error)
	// background counts work that must end before the UI returns (a start-up
	// cleaning up a half-made cluster after Ctrl-C).
	background sync.WaitGroup
}

// Model is the root of the UI: it owns the window, the language, the progress
// snapshot and the help bar, and hands everything else to the screen shown.
type Model struct {
	d      *deps
	screen screen
	list   listModel
	step   stepModel
	start  startupModel
	// recreate is what the next start-up does: delete the cluster first.
	recreate bool
	help     help.Model
	lang     string
	st       styles

	width, height int
	// problem is a progress file error or warning; it outranks a screen's status.
	problem string
	// clusterDown is why the API did not answer at the last health check.
	clusterDown error
	// warned is the store's warning already shown: the store keeps it for the
	// session, and it is news once.
	warned string
}

// The size used until the terminal reports its own.
const defaultWidth, defaultHeight = 80, 24

// NewModel builds the UI on ctx: cancelling it stops the live checks and any
// engine work in flight.
func NewModel(ctx context.Context, o Options) Model {
	d := &deps{ctx: ctx, eng: o.Engine, store: o.Progress, workDir: o.WorkDir, writeFiles: o.WriteFiles,
		solveTimeout: o.SolveTimeout, namespace: o.Namespace, startup: o.Startup, reconnect: o.Reconnect}
	if d.solveTimeout <= 0 {
		d.solveTimeout = 3 * time.Minute
	}
	if d.settle = o.Settle; d.settle == 0 {
		d.settle = engine.Settle
	}
	lang := o.Lang
	if lang != "ko" {
		lang = "en"
	}
	st := newStyles(true)
	m := Model{d: d, lang: lang, st: st, help: help.New(),
		list: newListModel(o.Labs, lang, st), step: newStepModel(d, lang, st), start: newStartupModel(d, lang, st)}
	if o.Engine == nil && o.Startup != nil {
		m.screen, m.recreate = startupScreen, o.Recreate
	}
	return m.resize(defaultWidth, defaultHeight)
}

// beginStartupMsg starts the start-up screen's work.
type beginStartupMsg struct{}

func (m Model) Init() tea.Cmd {
	if m.screen == startupScreen {
		return tea.Batch(loadProgress(m.d.store), tea.RequestBackgroundColor, send(beginStartupMsg{}))
	}
	return tea.Batch(loadProgress(m.d.store), tea.RequestBackgroundColor, checkHealth(m.d, time.Second))
}

// startUp shows the start-up screen and begins bringing the cluster up.
func (m Model) startUp() (Model, tea.Cmd) {
	m.step = m.step.leave()
	m.screen = startupScreen
	var cmd tea.Cmd
	m.start, cmd = m.start.begin(m.recreate)
	return m, cmd
}

func (m Model) resize(w, h int) Model {
	m.width, m.height = w, h
	m.help.SetWidth(w)
	// Two lines below every screen: the status and the help bar.
	m.list = m.list.setSize(w, h-2)
	m.step = m.step.setSize(w, h-2)
	m.start.width, m.start.height = w, h-2
	return m
}

func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return m.resize(msg.Width, msg.Height), nil
	case tea.BackgroundColorMsg:
		m.st = newStyles(msg.IsDark())
		m.help.Styles = help.DefaultStyles(msg.IsDark())
		m.list.st, m.step.st, m.start.st = m.st, m.st, m.st
		m.step = m.step.layout()
		return m, nil
	case progressMsg:
		m.problem = ""
		switch {
		case msg.err != nil:
			m.problem = tr(m.lang, "progress not saved: ", "진행 기록을 저장하지 못했습니다: ") + msg.err.Error()
		case msg.warning != "" && msg.warning != m.warned:
			m.problem, m.warned = msg.warning, msg.warning
		}
		if msg.file != nil {
			m.list.pf = msg.file
		}
	case healthMsg:
		if m.screen == startupScreen {
			// The cluster is being brought up; the ready engine re-arms the checks.
			return m, nil
		}
		m.clusterDown = msg.err
		if msg.total > 0 {
			m.list.nodesReady, m.list.nodes = msg.ready, msg.total
		}
		return m, checkHealth(m.d, healthEvery)
	case reconnectedMsg:
		if m.screen == startupScreen {
			return m, nil
		}
		m.d.eng, m.clusterDown = msg.eng, nil
		m.d.eng.SetLang(m.lang)
		cmds := []tea.Cmd{loadProgress(m.d.store), checkHealth(m.d, healthEvery)}
		if m.screen == stepScreen && m.step.lab != nil {
			// The step's checks go on against the new session.
			var watch tea.Cmd
			m.step, watch = m.step.watchStep()
			cmds = append(cmds, watch)
		}
		return m, tea.Batch(cmds...)
	case beginStartupMsg:
		return m.startUp()
	case startupEventMsg, startupTickMsg:
		var cmd tea.Cmd
		m.start, cmd = m.start.Update(msg)
		return m, cmd
	case startupDoneMsg:
		m.start, _ = m.start.Update(msg)
		if msg.run != m.start.run || msg.err != nil || msg.eng == nil {
			return m, nil
		}
		m.d.eng, m.clusterDown, m.recreate = msg.eng, nil, false
		m.d.eng.SetLang(m.lang)
		m.screen = labList
		return m, tea.Batch(loadProgress(m.d.store), checkHealth(m.d, healthEvery))
	case openLabMsg:
		m.screen = stepScreen
		var cmd tea.Cmd
		m.step, cmd = m.step.open(msg.lab)
		return m, cmd
	case backMsg:
		m.screen = labList
		return m, nil
	case tea.KeyPressMsg:
		if cmd, ok := m.globalKey(msg); ok {
			return m, cmd
		}
		if m.screen == labList {
			var cmd tea.Cmd
			m.list, cmd = m.list.Update(msg)
			return m, cmd
		}
		if m.screen == startupScreen {
			if k := m.start.keys(); matches(msg, k.Retry) && k.Retry.Enabled() {
				return m.startUp()
			}
			return m, nil
		}
	}
	// Every other message may belong to the step screen (live results, the end
	// of engine work), whichever screen is shown.
	var cmd tea.Cmd
	m.step, cmd = m.step.Update(msg)
	return m, cmd
}

// globalKey handles the keys that mean the same on every screen.
func (m *Model) globalKey(k tea.KeyPressMsg) (tea.Cmd, bool) {
	if k.Keystroke() == "ctrl+c" {
		return m.quit(), true
	}
	if m.screen == stepScreen && m.step.prompting() {
		return nil, false
	}
	quit := key.NewBinding(key.WithKeys("q"))
	lang := key.NewBinding(key.WithKeys("l"))
	switch {
	case matches(k, quit):
		return m.quit(), true
	case matches(k, lang):
		m.lang = otherLang(m.lang)
		m.list.lang, m.step.lang, m.start.lang = m.lang, m.lang, m.lang
		// The next verdicts (within the watch interval) come in the new language.
		if m.d.eng != nil {
			m.d.eng.SetLang(m.lang)
		}
		m.step = m.step.layout()
		return nil, true
	case (matches(k, recreateKey) || matches(k, restartKey)) && m.clusterDown != nil && m.d.startup != nil && m.screen != startupScreen:
		m.recreate = matches(k, recreateKey)
		var cmd tea.Cmd
		*m, cmd = m.startUp()
		return cmd, true
	}
	return nil, false
}

// quit stops the live checks and engine work before the program ends, so
// nothing keeps evaluating against a session about to close.
func (m *Model) quit() tea.Cmd {
	m.step = m.step.leave()
	return tea.Quit
}

func (m Model) View() tea.View {
	var body, status, helpBar string
	switch m.screen {
	case startupScreen:
		body, status, helpBar = m.start.View(), m.start.status(), m.help.View(m.start.keys())
	case stepScreen:
		body, status, helpBar = m.step.View(), m.step.status(), m.step.helpView(m.help)
	default:
		body, status, helpBar = m.list.View(), m.list.status(), m.help.View(m.list.keys())
	}
	if m.problem != "" {
		status = m.st.warn.Render(m.problem)
	}
	if m.clusterDown != nil && m.screen != startupScreen {
		status = m.st.warn.Render(m.clusterProblem())
	}
	// Pad the body so status and help stay at the bottom of the window.
	lines := strings.Split(body, "\n")
	for len(lines) < m.height-2 {
		lines = append(lines, "")
	}
	// fit the help bar too: bubbles' help lets the last item overflow when
	// there is no room for its ellipsis.
	lines = append(lines[:max(m.height-2, 0)], fit(status, m.width), fit(helpBar, m.width))
	v := tea.NewView(strings.Join(lines, "\n"))
	v.AltScreen = true
	v.WindowTitle = "kindlab"
	return v
}

// watchDone is closed when the last watch has returned, for Run to wait on.
func (m Model) watchDone() <-chan struct{} {
	if m.step.watch == nil {
		return nil
	}
	return m.step.watch.done
}
