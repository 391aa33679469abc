package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// listKeys are the lab list's keys; help text follows the learner's language.
type listKeys struct {
	Up, Down, Open, Lang, Quit key.Binding
}

func newListKeys(lang string) listKeys {
	return listKeys{
		Up:   key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", tr(lang, "up", "위"))),
		Down: key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", tr(lang, "down", "아래"))),
		Open: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", tr(lang, "open lab", "실습 열기"))),
		Lang: key.NewBinding(key.WithKeys("l"), key.WithHelp("l", tr(lang, "한국어", "English"))),
		Quit: key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", tr(lang, "quit", "종료"))),
	}
}

func (k listKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.Open, k.Lang, k.Quit}
}

func (k listKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// stepKeys are the step screen's keys.
type stepKeys struct {
	Next, Prev, Hint, Answer, Solution, Perform, Reset, Lang, Back, Quit, Scroll key.Binding
}

func newStepKeys(lang string) stepKeys {
	return stepKeys{
		Next:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", tr(lang, "next", "다음"))),
		Prev:     key.NewBinding(key.WithKeys("p"), key.WithHelp("p", tr(lang, "prev", "이전"))),
		Hint:     key.NewBinding(key.WithKeys("h"), key.WithHelp("h", tr(lang, "hint", "힌트"))),
		Answer:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", tr(lang, "answer", "답 입력"))),
		Solution: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", tr(lang, "solution", "정답"))),
		Perform:  key.NewBinding(key.WithKeys("S"), key.WithHelp("S", tr(lang, "perform it", "정답 실행"))),
		Reset:    key.NewBinding(key.WithKeys("r"), key.WithHelp("r", tr(lang, "reset", "초기화"))),
		Lang:     key.NewBinding(key.WithKeys("l"), key.WithHelp("l", tr(lang, "한국어", "English"))),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", tr(lang, "labs", "목록"))),
		Quit:     key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", tr(lang, "quit", "종료"))),
		Scroll:   key.NewBinding(key.WithKeys("up", "down", "pgup", "pgdown"), key.WithHelp("↑/↓", tr(lang, "scroll", "스크롤"))),
	}
}

func (k stepKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Next, k.Prev, k.Hint, k.Answer, k.Solution, k.Perform, k.Reset, k.Lang, k.Back, k.Quit, k.Scroll}
}

func (k stepKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// promptKeys are the only keys while a yes/no question is asked.
type promptKeys struct{ Yes, No key.Binding }

func newPromptKeys(lang string) promptKeys {
	return promptKeys{
		Yes: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", tr(lang, "yes", "예"))),
		No:  key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", tr(lang, "no", "아니요"))),
	}
}

func (k promptKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Yes, k.No} }
func (k promptKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// inputKeys are the keys while an answer is typed.
type inputKeys struct{ Enter, Cancel key.Binding }

func newInputKeys(lang string) inputKeys {
	return inputKeys{
		Enter:  key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", tr(lang, "record the answer", "답 기록"))),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", tr(lang, "cancel", "취소"))),
	}
}

func (k inputKeys) ShortHelp() []key.Binding  { return []key.Binding{k.Enter, k.Cancel} }
func (k inputKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// hangul maps the 2-set Korean keyboard layout to the Latin keys under it: a
// Korean learner whose input method is in Hangul mode types ㅜ for n, and the
// terminal reports only the jamo unless it speaks the kitty keyboard protocol.
var hangul = map[string]string{
	"ㅂ": "q", "ㅈ": "w", "ㄷ": "e", "ㄱ": "r", "ㅅ": "t", "ㅛ": "y", "ㅕ": "u", "ㅑ": "i", "ㅐ": "o", "ㅔ": "p",
	"ㅁ": "a", "ㄴ": "s", "ㅇ": "d", "ㄹ": "f", "ㅎ": "g", "ㅗ": "h", "ㅓ": "j", "ㅏ": "k", "ㅣ": "l",
	"ㅋ": "z", "ㅌ": "x", "ㅊ": "c", "ㅍ": "v", "ㅠ": "b", "ㅜ": "n", "ㅡ": "m",
}

// keyName is the key's name for key.Matches, with Hangul jamo read as the Latin
// key and, where the terminal tells it, the key's place on a US layout.
func keyName(k tea.KeyPressMsg) string {
	if l, ok := hangul[k.Text]; ok {
		return l
	}
	if k.BaseCode != 0 && k.Mod == 0 && k.Text != "" && k.BaseCode != k.Code {
		return string(k.BaseCode)
	}
	return k.String()
}

type named string

func (n named) String() string { return string(n) }

// matches reports whether k is one of the bindings.
func matches(k tea.KeyPressMsg, b ...key.Binding) bool {
	return key.Matches(named(keyName(k)), b...)
}
