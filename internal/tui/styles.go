package tui

import (
	"image/color"
	"strings"

	"charm.land/glamour/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// styles are the UI's colours for a dark or light terminal. Colours are always
// full; Bubble Tea downsamples them to what the terminal can show.
type styles struct {
	dark                   bool
	title, faint, selected lipgloss.Style
	pass, fail, pending    lipgloss.Style
	rule, status, warn     lipgloss.Style
	barOn, barOff          lipgloss.Style
	// diagnosis: why a failing check fails, under its message.
	diagnosis lipgloss.Style
}

func newStyles(dark bool) styles {
	ld := lipgloss.LightDark(dark)
	c := func(light, darkc string) color.Color { return ld(lipgloss.Color(light), lipgloss.Color(darkc)) }
	return styles{
		dark:      dark,
		title:     lipgloss.NewStyle().Bold(true).Foreground(c("#5A3FC0", "#B4A7FF")),
		faint:     lipgloss.NewStyle().Faint(true),
		selected:  lipgloss.NewStyle().Bold(true).Reverse(true),
		pass:      lipgloss.NewStyle().Foreground(c("#1E8A3C", "#5FD787")),
		fail:      lipgloss.NewStyle().Foreground(c("#C0392B", "#FF6B6B")),
		pending:   lipgloss.NewStyle().Foreground(c("#8A8A8A", "#8A8A8A")),
		rule:      lipgloss.NewStyle().Foreground(c("#C8C8C8", "#444444")),
		status:    lipgloss.NewStyle().Bold(true),
		warn:      lipgloss.NewStyle().Bold(true).Foreground(c("#B35C00", "#FFB86C")),
		barOn:     lipgloss.NewStyle().Foreground(c("#1E8A3C", "#5FD787")),
		barOff:    lipgloss.NewStyle().Foreground(c("#C8C8C8", "#444444")),
		diagnosis: lipgloss.NewStyle().Foreground(c("#8A5A00", "#E5C07B")),
	}
}

func (s styles) ruleLine(width int) string {
	return s.rule.Render(strings.Repeat("─", max(width, 0)))
}

// bar is a progress bar of width cells.
func (s styles) bar(done, total, width int) string {
	if total <= 0 || width <= 0 {
		return ""
	}
	on := done * width / total
	return s.barOn.Render(strings.Repeat("█", on)) + s.barOff.Render(strings.Repeat("░", width-on))
}

// fit cuts or pads a line to exactly width cells, so columns line up with
// Korean text (two cells a syllable) as well as English.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) > width {
		s = ansi.Truncate(s, width, "…")
	}
	return s + strings.Repeat(" ", width-ansi.StringWidth(s))
}

func ansiWidth(s string) int { return ansi.StringWidth(s) }

// markdown renders lab text with glamour, keeping the last renderer: making one
// parses a whole style sheet, and width and style change far less often than text.
type markdown struct {
	width int
	dark  bool
	r     *glamour.TermRenderer
}

func (md *markdown) render(text string, width int, dark bool) string {
	if md.r == nil || md.width != width || md.dark != dark {
		style := "light"
		if dark {
			style = "dark"
		}
		r, err := glamour.NewTermRenderer(glamour.WithStandardStyle(style), glamour.WithWordWrap(width))
		if err != nil {
			return text
		}
		md.r, md.width, md.dark = r, width, dark
	}
	out, err := md.r.Render(text)
	if err != nil {
		return text
	}
	return strings.Trim(out, "\n")
}
