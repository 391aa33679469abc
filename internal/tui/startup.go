package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// StartState is the state of one start-up step.
type StartState int

const (
	Running StartState = iota
	Finished
	UpToDate
	Broken
	// Note is a line of text (a doctor's fix, the cluster's status), not a step.
	Note
)

// StartupEvent is one piece of progress of the start-up: the machine check, the
// image build (each named step), the cluster's creation (kind's steps).
type StartupEvent struct {
	// Phase groups steps under a title; a Phase event with no Step starts one.
	Phase   string
	Title   string
	Step    string
	State   StartState
	Elapsed time.Duration
	Text    string
}

// Startup brings the cluster up and opens the lab engine on it, reporting its
// progress; recreate deletes the cluster first. It must return when ctx ends,
// leaving nothing half-made.
type Startup func(ctx context.Context, recreate bool, report func(StartupEvent)) (Engine, error)

// Messages of the start-up screen.
type (
	startupEventMsg struct {
		run int
		ev  StartupEvent
	}
	startupDoneMsg struct {
		run int
		eng Engine
		err error
	}
	startupTickMsg struct{ run int }
)

type startRow struct {
	phase, step string
	state       StartState
	began       time.Time
	elapsed     time.Duration
}

type startPhase struct {
	id, title string
	rows      []startRow
}

// startupModel is the start-up screen: what kindlab does before the labs can
// start, step by step with elapsed times, and what to do when it fails.
type startupModel struct {
	d    *deps
	lang string
	st   styles

	width, height int

	// run numbers start-ups, so events of an abandoned one are dropped.
	run     int
	began   time.Time
	now     time.Time
	phases  []startPhase
	notes   []string
	err     error
	running bool
	ch      chan StartupEvent
	done    chan startupDoneMsg
	// clock is time.Now, fixed in tests.
	clock func() time.Time
}

func newStartupModel(d *deps, lang string, st styles) startupModel {
	return startupModel{d: d, lang: lang, st: st, clock: time.Now}
}

// begin starts a start-up in the background and the Cmds that bring its news.
func (m startupModel) begin(recreate bool) (startupModel, tea.Cmd) {
	m.run++
	m.began, m.now = m.clock(), m.clock()
	m.phases, m.notes, m.err, m.running = nil, nil, nil, true
	m.ch, m.done = make(chan StartupEvent, 64), make(chan startupDoneMsg, 1)
	run, ch, done, d := m.run, m.ch, m.done, m.d
	d.background.Add(1)
	go func() {
		defer d.background.Done()
		report := func(ev StartupEvent) {
			select {
			case ch <- ev:
			case <-d.ctx.Done():
			}
		}
		eng, err := d.startup(d.ctx, recreate, report)
		done <- startupDoneMsg{run: run, eng: eng, err: err}
	}()
	return m, tea.Batch(m.next(), m.tick())
}

// next waits for the start-up's next event or its end.
func (m startupModel) next() tea.Cmd {
	run, ch, done, ctx := m.run, m.ch, m.done, m.d.ctx
	return func() tea.Msg {
		select {
		case ev := <-ch:
			return startupEventMsg{run: run, ev: ev}
		case msg := <-done:
			// Events sent before the end come first.
			for {
				select {
				case ev := <-ch:
					done <- msg
					return startupEventMsg{run: run, ev: ev}
				default:
					return msg
				}
			}
		case <-ctx.Done():
			return nil
		}
	}
}

func (m startupModel) tick() tea.Cmd {
	run := m.run
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return startupTickMsg{run: run} })
}

func (m startupModel) Update(msg tea.Msg) (startupModel, tea.Cmd) {
	switch msg := msg.(type) {
	case startupEventMsg:
		if msg.run != m.run {
			return m, nil
		}
		m = m.apply(msg.ev)
		return m, m.next()
	case startupTickMsg:
		if msg.run != m.run || !m.running {
			return m, nil
		}
		m.now = m.clock()
		return m, m.tick()
	case startupDoneMsg:
		if msg.run != m.run {
			return m, nil
		}
		m.running, m.err, m.now = false, msg.err, m.clock()
	}
	return m, nil
}

func (m startupModel) phase(id, title string) (startupModel, *startPhase) {
	for i := range m.phases {
		if m.phases[i].id == id {
			if title != "" {
				m.phases[i].title = title
			}
			return m, &m.phases[i]
		}
	}
	m.phases = append(m.phases, startPhase{id: id, title: title})
	return m, &m.phases[len(m.phases)-1]
}

func (m startupModel) apply(ev StartupEvent) startupModel {
	m.phases = append([]startPhase(nil), m.phases...)
	m, p := m.phase(ev.Phase, ev.Title)
	switch {
	case ev.State == Note:
		for _, l := range strings.Split(strings.TrimRight(ev.Text, "\n"), "\n") {
			if strings.TrimSpace(l) != "" {
				m.notes = append(m.notes, l)
			}
		}
		if len(m.notes) > 50 {
			m.notes = m.notes[len(m.notes)-50:]
		}
	case ev.Step != "":
		p.rows = append([]startRow(nil), p.rows...)
		for i := range p.rows {
			if p.rows[i].step == ev.Step {
				p.rows[i].state, p.rows[i].elapsed = ev.State, ev.Elapsed
				return m
			}
		}
		p.rows = append(p.rows, startRow{phase: ev.Phase, step: ev.Step, state: ev.State, began: m.clock(), elapsed: ev.Elapsed})
	}
	return m
}

func mmss(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

func (m startupModel) View() string {
	head := m.st.title.Render(tr(m.lang, "kindlab — getting the lab cluster ready", "kindlab — 실습 클러스터 준비"))
	elapsed := m.st.faint.Render(mmss(m.now.Sub(m.began)))
	lines := []string{fit(head, m.width-ansiWidth(elapsed)-1) + " " + elapsed, m.st.ruleLine(m.width)}
	rows := 0
	for _, p := range m.phases {
		rows += 1 + len(p.rows)
	}
	// On a short screen a finished phase (all but the last) shrinks to one line.
	collapse := rows > m.height-4
	for i, p := range m.phases {
		lines = append(lines, m.st.title.Render(p.title))
		if collapse && i < len(m.phases)-1 && phaseDone(p) {
			lines = append(lines, m.phaseSummary(p))
			continue
		}
		for _, r := range p.rows {
			var mark, when string
			switch r.state {
			case Running:
				mark, when = m.st.pending.Render("•"), mmss(m.now.Sub(r.began))+" …"
				if !m.running {
					when = ""
				}
			case Finished:
				mark = m.st.pass.Render("✓")
				if r.elapsed > 0 {
					when = r.elapsed.Round(100 * time.Millisecond).String()
				}
			case UpToDate:
				mark, when = m.st.pass.Render("✓"), tr(m.lang, "up to date", "최신")
			case Broken:
				mark, when = m.st.fail.Render("✗"), r.elapsed.Round(100*time.Millisecond).String()
			}
			lines = append(lines, fit(fmt.Sprintf("  %s %-44s %s", mark, r.step, m.st.faint.Render(when)), m.width))
		}
	}
	// The notes fill what is left, newest last.
	room := m.height - len(lines) - 1
	if m.err != nil {
		room -= 3
	}
	if room > 0 && len(m.notes) > 0 {
		notes := m.notes
		if len(notes) > room {
			notes = notes[len(notes)-room:]
		}
		lines = append(lines, m.st.ruleLine(m.width))
		for _, n := range notes {
			lines = append(lines, fit(m.st.faint.Render(n), m.width))
		}
	}
	if m.err != nil {
		lines = append(lines, "", m.st.fail.Render(tr(m.lang, "Could not get the cluster ready:", "클러스터를 준비하지 못했습니다:")))
		for _, l := range strings.Split(m.err.Error(), "\n") {
			lines = append(lines, fit("  "+l, m.width))
		}
	}
	if len(lines) > m.height {
		// Keep the title, the newest lines and the error.
		lines = append(lines[:2:2], lines[len(lines)-(m.height-2):]...)
	}
	return strings.Join(lines, "\n")
}

func phaseDone(p startPhase) bool {
	if len(p.rows) == 0 {
		return false
	}
	for _, r := range p.rows {
		if r.state == Running || r.state == Broken {
			return false
		}
	}
	return true
}

// phaseSummary is a finished phase in one line: how many steps, how many were
// already up to date.
func (m startupModel) phaseSummary(p startPhase) string {
	upToDate := 0
	for _, r := range p.rows {
		if r.state == UpToDate {
			upToDate++
		}
	}
	s := fmt.Sprintf(tr(m.lang, "%d steps done", "%d 단계 완료"), len(p.rows))
	if upToDate > 0 {
		s += fmt.Sprintf(tr(m.lang, " (%d up to date)", " (%d 개는 이미 최신)"), upToDate)
	}
	return fit("  "+m.st.pass.Render("✓")+" "+s, m.width)
}

func (m startupModel) status() string {
	switch {
	case m.err != nil:
		return m.st.warn.Render(tr(m.lang, "r: try again · q: quit (the full log is in the state directory's tui.log)",
			"r: 다시 시도 · q: 종료 (전체 기록은 상태 디렉터리의 tui.log)"))
	case m.running:
		return m.st.faint.Render(tr(m.lang, "The first time, Kubernetes is built from source (15-20 minutes on 2 cores); later it takes seconds.",
			"처음에는 쿠버네티스를 소스에서 빌드합니다 (2코어에서 15~20분). 다음부터는 몇 초면 됩니다."))
	}
	return ""
}

type startupKeys struct{ Retry, Quit key.Binding }

func (m startupModel) keys() startupKeys {
	k := startupKeys{
		Retry: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", tr(m.lang, "try again", "다시 시도"))),
		Quit:  key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", tr(m.lang, "quit", "종료"))),
	}
	k.Retry.SetEnabled(m.err != nil)
	return k
}

func (k startupKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Retry, k.Quit} }
func (k startupKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }
