package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"github.com/charmbracelet/x/ansi"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/learn"
)

// stepHeader is the lines above the viewport: lab title, step title, rule.
const stepHeader = 3

// layout sizes the viewport to what the checks leave and refills it when what it
// shows has changed. Update calls it after every message, so View only draws.
func (m stepModel) layout() stepModel {
	if m.lab == nil || m.width <= 0 {
		return m
	}
	checks := m.checksView()
	m.vp.SetWidth(m.width)
	m.vp.SetHeight(max(m.height-stepHeader-1-strings.Count(checks, "\n")-1, 1))
	st := m.step()
	shown := fmt.Sprint(m.lab.ID, "/", st.ID, m.lang, m.width, m.st.dark, learn.HintsSeen(m.progress(), st), m.showSolution, m.d.workDir != nil)
	if shown != m.shown {
		m.vp.SetContent(m.body())
		m.shown = shown
		if m.scrollEnd {
			m.vp.GotoBottom()
			m.scrollEnd = false
		}
	}
	return m
}

// body is the viewport's text: where to work, the instructions, the hints seen
// so far and, when asked, the solution.
func (m stepModel) body() string {
	st := m.step()
	var md strings.Builder
	md.WriteString(strings.TrimSpace(lab.Namespaced(st.Instructions.In(m.lang), m.d.namespace)))
	seen := learn.HintsSeen(m.progress(), st)
	for i := range seen {
		fmt.Fprintf(&md, "\n\n**%s %d/%d** — %s", tr(m.lang, "Hint", "힌트"), i+1, len(st.Hints), strings.TrimSpace(st.Hints[i].In(m.lang)))
	}
	if m.showSolution {
		fmt.Fprintf(&md, "\n\n**%s**\n\n```sh\n%s\n```", tr(m.lang, "Solution", "정답"), strings.Join(st.Solution.Commands, "\n"))
	}
	out := m.md.render(md.String(), m.width, m.st.dark)
	if m.d.workDir != nil {
		dir := m.d.workDir(m.lab)
		where := tr(m.lang, "Manifests are in "+dir+": run kubectl there, in another terminal.",
			"매니페스트는 "+dir+" 에 있습니다: 다른 터미널의 그 디렉터리에서 kubectl 을 실행하세요.")
		// The viewport cuts long lines; glamour wraps the rest, this line is ours.
		var lines []string
		for _, l := range strings.Split(ansi.Wrap(where, max(m.width-4, 10), ""), "\n") {
			lines = append(lines, m.st.faint.Render("  "+l))
		}
		out = strings.Join(lines, "\n") + "\n\n" + out
	}
	return out
}

// checksView lists the step's checks with their live status; a check that does
// not pass says why, in the words of its result.
func (m stepModel) checksView() string {
	st := m.step()
	byID := map[string]check.Result{}
	for _, r := range m.results {
		byID[r.Check] = r
	}
	pass := 0
	var lines []string
	for _, c := range st.Checks {
		r, ok := byID[c.ID]
		title := c.Title.In(m.lang)
		switch {
		case !ok || r.Status == check.Pending:
			lines = append(lines, "  "+m.st.pending.Render("… "+title+" "+tr(m.lang, "(checking)", "(확인 중)")))
		case r.Status == check.Pass:
			pass++
			lines = append(lines, "  "+m.st.pass.Render("✓")+" "+title)
		default:
			mark := "✗"
			if r.Status == check.Error {
				mark = "!"
			}
			lines = append(lines, "  "+m.st.fail.Render(mark)+" "+title)
			for _, l := range strings.Split(ansi.Wrap(r.Message, max(m.width-6, 10), ""), "\n") {
				lines = append(lines, "      "+l)
			}
			if r.Diagnosis != "" {
				for i, l := range strings.Split(ansi.Wrap(r.Diagnosis, max(m.width-8, 10), ""), "\n") {
					lead := "        "
					if i == 0 {
						lead = "      → "
					}
					lines = append(lines, lead+m.st.diagnosis.Render(l))
				}
			}
		}
	}
	head := m.st.title.Render(tr(m.lang, "Checks", "검사")) + m.st.faint.Render(fmt.Sprintf("  %d/%d %s", pass, len(st.Checks), tr(m.lang, "pass", "통과")))
	// Instructions need room too: past half the screen, the rest of the checks
	// are counted, not shown.
	if limit := max(m.height/2-1, 2); len(lines) > limit {
		more := len(lines) - limit + 1
		lines = append(lines[:limit-1], m.st.faint.Render(fmt.Sprintf("      … %d %s", more, tr(m.lang, "more lines", "줄 더 있음"))))
	}
	return head + "\n" + strings.Join(lines, "\n")
}

func (m stepModel) View() string {
	if m.lab == nil {
		return ""
	}
	st := m.step()
	pos := fmt.Sprintf("%s %d/%d · %s", tr(m.lang, "step", "단계"), m.idx+1, len(m.lab.Steps), strings.ToUpper(m.lang))
	top := fit(m.st.title.Render(m.lab.Title.In(m.lang)), m.width-ansiWidth(pos)-1) + " " + m.st.faint.Render(pos)
	state := ""
	switch lp := m.progress(); {
	case lp.IsDone(st.ID) && engine.AllPass(m.results):
		state = m.st.pass.Render("✓ " + tr(m.lang, "done", "완료"))
	case lp.IsDone(st.ID):
		state = m.st.faint.Render(tr(m.lang, "done earlier", "이전에 완료"))
	}
	second := fit(fmt.Sprintf("%d. %s", m.idx+1, st.Title.In(m.lang)), m.width-ansiWidth(state)-1) + " " + state
	return strings.Join([]string{top, second, m.st.ruleLine(m.width), m.vp.View(), m.st.ruleLine(m.width), m.checksView()}, "\n")
}

// status is the line above the help bar: a question, the work in flight, the
// outcome of the last action, or what to do next.
func (m stepModel) status() string {
	if m.lab == nil {
		return ""
	}
	st := m.step()
	switch m.prompt {
	case askAnswer:
		q := m.answerCheck().Answer.Question.In(m.lang)
		return fit(m.st.warn.Render(q+" ")+m.input.View(), m.width)
	case askSolve:
		return m.st.warn.Render(tr(m.lang, "Perform the solution on the cluster? (y/n)", "클러스터에서 정답을 실행할까요? (y/n)"))
	case askReset:
		return m.st.warn.Render(fmt.Sprintf(tr(m.lang, "Reset lab %s: delete what it created and forget its progress? (y/n)",
			"실습 %s 초기화: 만든 오브젝트를 지우고 진행 기록을 잊을까요? (y/n)"), m.lab.ID))
	}
	switch m.busy {
	case starting:
		return m.st.status.Render(tr(m.lang, "Setting the lab up…", "실습을 준비하는 중…"))
	case solving:
		return m.st.status.Render(fmt.Sprintf(tr(m.lang, "Performing the solution, then waiting up to %s for the checks…",
			"정답을 실행하고 검사 통과를 최대 %s 기다리는 중…"), m.d.solveTimeout))
	case resetting:
		return m.st.status.Render(tr(m.lang, "Resetting the lab…", "실습을 초기화하는 중…"))
	}
	if m.notice != "" {
		if m.noticeBad {
			return m.st.fail.Render(m.notice)
		}
		return m.st.status.Render(m.notice)
	}
	if m.progress().IsDone(st.ID) && engine.AllPass(m.results) {
		if m.idx == len(m.lab.Steps)-1 {
			return m.st.pass.Render(tr(m.lang, "✓ Step done: the lab is complete! esc: back to the labs", "✓ 단계 완료: 실습을 모두 마쳤습니다! esc: 실습 목록"))
		}
		return m.st.pass.Render(tr(m.lang, "✓ Step done! n: next step", "✓ 단계 완료! n: 다음 단계"))
	}
	return m.st.faint.Render(tr(m.lang, "Checks update live as you work.", "작업하는 동안 검사 결과가 바로 갱신됩니다."))
}

func (m stepModel) helpView(h help.Model) string {
	if m.prompt == askAnswer {
		return h.View(newInputKeys(m.lang))
	}
	if m.prompting() {
		return h.View(newPromptKeys(m.lang))
	}
	return h.View(m.keys())
}
