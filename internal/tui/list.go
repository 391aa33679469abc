package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

// listModel is the lab list: every lab of the chapter with the learner's progress.
type listModel struct {
	labs   []*lab.Lab
	pf     *progress.File
	lang   string
	st     styles
	cursor int
	// top is the first row shown when the list is taller than the screen.
	top           int
	width, height int
	// nodes and nodesReady are the cluster's, once the UI has asked (0: not yet).
	nodes, nodesReady int
}

// listHeader is the lines above the rows: title, chapter progress, rule.
const listHeader = 3

func newListModel(set *lab.Set, lang string, st styles) listModel {
	return listModel{labs: set.Labs, lang: lang, st: st}
}

func (m listModel) keys() listKeys { return newListKeys(m.lang) }

func (m listModel) Update(msg tea.Msg) (listModel, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	keys := m.keys()
	switch {
	case matches(k, keys.Up):
		m.cursor = max(m.cursor-1, 0)
	case matches(k, keys.Down):
		m.cursor = min(m.cursor+1, len(m.labs)-1)
	case matches(k, keys.Open):
		// Before progress is read every lab looks new, and opening a new lab
		// runs its setup over what the learner made.
		if len(m.labs) > 0 && m.pf != nil {
			return m, send(openLabMsg{lab: m.labs[m.cursor]})
		}
	}
	m.top = scrollTop(m.top, m.cursor, m.height-listHeader, len(m.labs))
	return m, nil
}

func (m listModel) setSize(width, height int) listModel {
	m.width, m.height = width, height
	m.top = scrollTop(m.top, m.cursor, m.height-listHeader, len(m.labs))
	return m
}

// status is the list's line above the help bar.
func (m listModel) status() string {
	if len(m.labs) == 0 {
		return ""
	}
	l := m.labs[m.cursor]
	return m.st.faint.Render(strings.TrimSpace(firstLine(l.Goal.In(m.lang))))
}

// nodesLine is the cluster line: its nodes and how many are Ready.
func (m listModel) nodesLine() string {
	if m.nodes == 1 {
		if m.nodesReady == 1 {
			return tr(m.lang, "1 node, Ready", "노드 1개, Ready")
		}
		return tr(m.lang, "1 node, not Ready", "노드 1개, Ready 아님")
	}
	return fmt.Sprintf(tr(m.lang, "%d nodes, %d Ready", "노드 %d개, %d개 Ready"), m.nodes, m.nodesReady)
}

func (m listModel) View() string {
	width := m.width
	var b strings.Builder
	done, total := 0, 0
	for _, l := range m.labs {
		total += len(l.Steps)
		done += doneCount(l, labProgress(m.pf, l.ID))
	}
	title := m.st.title.Render(tr(m.lang, "kindlab — Kubernetes labs", "kindlab — 쿠버네티스 실습"))
	right := strings.ToUpper(m.lang)
	if m.nodes > 0 {
		right = m.nodesLine() + "  " + right
	}
	b.WriteString(fit(title, width-ansiWidth(right)-1) + " " + m.st.faint.Render(right) + "\n")
	count := fmt.Sprintf(" %d/%d %s", done, total, tr(m.lang, "steps done", "단계 완료"))
	label := tr(m.lang, "Chapter progress ", "전체 진행 ")
	barWidth := max(min(width-ansiWidth(label)-ansiWidth(count), 40), 0)
	b.WriteString(label + m.st.bar(done, total, barWidth) + count + "\n")
	b.WriteString(m.st.ruleLine(width) + "\n")

	rows := m.height - listHeader
	idW, stateW, stepsW := 22, 12, 7
	titleW := max(width-idW-stateW-stepsW-6, 10)
	for i := m.top; i < len(m.labs) && i < m.top+rows; i++ {
		l := m.labs[i]
		lp := labProgress(m.pf, l.ID)
		s := stateOf(l, lp)
		steps := fmt.Sprintf("%d/%d", doneCount(l, lp), len(l.Steps))
		cols := " " + fit(l.ID, idW) + " " + fit(s.word(m.lang), stateW) + " " + fit(steps, stepsW) + " " + fit(l.Title.In(m.lang), titleW)
		if i == m.cursor {
			// One style for the whole row: a coloured mark inside would end the reverse.
			b.WriteString(m.st.selected.Render(fit("›"+s.mark()+cols, width)) + "\n")
			continue
		}
		mark := s.mark()
		switch s {
		case labDone:
			mark = m.st.pass.Render(mark)
		case inProgress:
			mark = m.st.warn.Render(mark)
		}
		b.WriteString(" " + mark + cols + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// scrollTop keeps the cursor inside a window of rows lines.
func scrollTop(top, cursor, rows, n int) int {
	if rows <= 0 {
		return 0
	}
	if cursor < top {
		top = cursor
	}
	if cursor >= top+rows {
		top = cursor - rows + 1
	}
	return max(min(top, n-rows), 0)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
