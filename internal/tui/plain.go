package tui

import (
	"fmt"
	"io"

	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

// PrintLabs writes the lab list with the learner's progress as plain text, for
// output that is not a terminal (a pipe, a file, a CI log).
func PrintLabs(w io.Writer, set *lab.Set, pf *progress.File, lang string) error {
	done, total := 0, 0
	for _, l := range set.Labs {
		total += len(l.Steps)
		done += doneCount(l, labProgress(pf, l.ID))
	}
	if _, err := fmt.Fprintf(w, "%s: %d/%d %s\n\n", tr(lang, "Chapter progress", "전체 진행"), done, total, tr(lang, "steps done", "단계 완료")); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s %s %s %s\n", fit("LAB", 22), fit("STATE", 12), fit("STEPS", 6), "TITLE")
	for _, l := range set.Labs {
		lp := labProgress(pf, l.ID)
		steps := fmt.Sprintf("%d/%d", doneCount(l, lp), len(l.Steps))
		if _, err := fmt.Fprintf(w, "%s %s %s %s\n", fit(l.ID, 22), fit(stateOf(l, lp).word(lang), 12), fit(steps, 6), l.Title.In(lang)); err != nil {
			return err
		}
	}
	return nil
}
