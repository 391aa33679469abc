package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/learn"
	"github.com/kindlab/kindlab/internal/progress"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

func newLabsCommand(g *Globals, s Streams) *cobra.Command {
	var output outputFormat
	cmd := &cobra.Command{
		Use:   "labs",
		Short: "List the chapter's labs and your progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := loadLabs()
			if err != nil {
				return err
			}
			ps, err := g.progress()
			if err != nil {
				return err
			}
			pf, err := ps.Load()
			if err != nil {
				return err
			}
			if w := ps.TakeWarning(); w != "" {
				fmt.Fprintln(s.Err, "warning:", w)
			}
			type row struct {
				ID    string   `json:"id"`
				Title string   `json:"title"`
				Steps []string `json:"steps"`
				Done  []string `json:"done"`
				State string   `json:"state"`
			}
			var rows []row
			for _, l := range set.Labs {
				r := row{ID: l.ID, Title: l.Title.In(g.lang()), Done: []string{}, State: "not started"}
				for _, st := range l.Steps {
					r.Steps = append(r.Steps, st.ID)
				}
				if lp := pf.Labs[l.ID]; lp != nil {
					r.Done = lp.DoneOf(r.Steps)
					r.State = "in progress"
					if len(r.Done) == len(l.Steps) {
						r.State = "done"
					}
				}
				rows = append(rows, r)
			}
			if output == "json" {
				return writeJSON(s.Out, rows)
			}
			fmt.Fprintf(s.Out, "%-22s %-12s %-6s %s\n", "LAB", "STATE", "STEPS", "TITLE")
			for _, r := range rows {
				fmt.Fprintf(s.Out, "%-22s %-12s %d/%-4d %s\n", r.ID, r.State, len(r.Done), len(r.Steps), r.Title)
			}
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	cmd.AddCommand(newLabsLintCommand(s), newLabsSelftestCommand(g, s))
	return cmd
}

// loadPack loads the labs built into kindlab, or the lab pack in dir (labs/
// and manifests/); done releases the pack's files. A pack that cannot be
// opened is an *ExitError (cannot); anything else is the lab files' problems.
func loadPack(dir string) (set *lab.Set, done func(), err error) {
	if dir == "" {
		set, err = lab.Load(labs.FS, manifests.FS)
		return set, func() {}, err
	}
	labsFS, labsDir, err := lab.PackFS(filepath.Join(dir, "labs"))
	if err != nil {
		return nil, nil, cannot(fmt.Errorf("--dir: %w", err))
	}
	manFS, manDir, err := lab.PackFS(filepath.Join(dir, "manifests"))
	if err != nil {
		labsDir.Close()
		return nil, nil, cannot(fmt.Errorf("--dir: %w", err))
	}
	done = func() { labsDir.Close(); manDir.Close() }
	if set, err = lab.Load(labsFS, manFS); err != nil {
		done()
		return nil, nil, err
	}
	return set, done, nil
}

func newLabsLintCommand(s Streams) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "lint",
		Short: "Load every lab file strictly and report all problems",
		Long:  "lint loads the labs built into kindlab, or a lab pack on disk with --dir (holding labs/ and manifests/), and reports every problem with its file and line.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, done, err := loadPack(dir)
			if err != nil {
				if exit := (*ExitError)(nil); errors.As(err, &exit) {
					return err
				}
				fmt.Fprintln(s.Out, err)
				return &ExitError{Code: ExitFail, Err: errors.New("lab files have problems")}
			}
			defer done()
			steps, checks, misses := 0, 0, 0
			for _, l := range set.Labs {
				steps += len(l.Steps)
				for _, st := range l.Steps {
					checks += len(st.Checks)
					misses += len(st.NearMisses)
				}
			}
			fmt.Fprintf(s.Out, "%d labs, %d steps, %d checks, %d near-misses: all valid\n", len(set.Labs), steps, checks, misses)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "a lab pack directory with labs/ and manifests/")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// labStepContext is what hint, solve and answer start from.
type labStepContext struct {
	set  *lab.Set
	ps   *progress.Store
	pf   *progress.File
	lab  *lab.Lab
	step *lab.Step
}

// openLabStep loads the labs and the progress and resolves LAB [STEP].
func (g *Globals) openLabStep(args []string) (*labStepContext, error) {
	set, err := loadLabs()
	if err != nil {
		return nil, err
	}
	ps, err := g.progress()
	if err != nil {
		return nil, err
	}
	pf, err := ps.Load()
	if err != nil {
		return nil, cannot(err)
	}
	l, st, err := labStep(set, pf, args)
	if err != nil {
		return nil, err
	}
	return &labStepContext{set: set, ps: ps, pf: pf, lab: l, step: st}, nil
}

// labStep resolves LAB [STEP] arguments; without STEP, the first step not done.
func labStep(set *lab.Set, pf *progress.File, args []string) (*lab.Lab, *lab.Step, error) {
	l, err := set.Get(args[0])
	if err != nil {
		return nil, nil, cannot(err)
	}
	if len(args) > 1 {
		for i := range l.Steps {
			if l.Steps[i].ID == args[1] {
				return l, &l.Steps[i], nil
			}
		}
		var ids []string
		for _, st := range l.Steps {
			ids = append(ids, st.ID)
		}
		return nil, nil, cannot(fmt.Errorf("lab %s has no step %q; its steps are: %s", l.ID, args[1], strings.Join(ids, ", ")))
	}
	lp := pf.Labs[l.ID]
	for i := range l.Steps {
		if !lp.IsDone(l.Steps[i].ID) {
			return l, &l.Steps[i], nil
		}
	}
	return l, &l.Steps[len(l.Steps)-1], nil
}

func newStartCommand(g *Globals, s Streams) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "start LAB",
		Short: "Start a lab: write its manifests to a working directory, set it up, print the steps",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := loadLabs()
			if err != nil {
				return err
			}
			l, err := set.Get(args[0])
			if err != nil {
				return cannot(err)
			}
			if dir == "" {
				home, err := os.UserHomeDir()
				if err != nil {
					return cannot(err)
				}
				dir = filepath.Join(home, "kindlab", l.ID)
			}
			// Files already there are kept: the learner may have edited them.
			if err := writeMissingManifests(set, l, dir); err != nil {
				return cannot(err)
			}
			sess, err := g.openSession(cmd.Context(), s, set)
			if err != nil {
				return err
			}
			defer sess.Close()
			ps, err := g.progress()
			if err != nil {
				return err
			}
			if err := (learn.Learner{Store: ps, Eng: sess}).Start(cmd.Context(), l, true); err != nil {
				return err
			}
			lang := g.lang()
			fmt.Fprintf(s.Out, "# %s\n\n%s\n\n", l.Title.In(lang), strings.TrimSpace(l.Goal.In(lang)))
			fmt.Fprintf(s.Out, "manifests are in %s — work there:\n\n    cd %s\n\n", dir, dir)
			for i, st := range l.Steps {
				fmt.Fprintf(s.Out, "## %d. %s (%s)\n\n%s\n\n", i+1, st.Title.In(lang), st.ID, strings.TrimSpace(lab.Namespaced(st.Instructions.In(lang), g.Namespace)))
			}
			fmt.Fprintf(s.Out, "check your work with `kindlab check %s`; stuck? `kindlab hint %s`\n", l.ID, l.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "working directory (default ~/kindlab/LAB)")
	return cmd
}

type checkOptions struct {
	output outputFormat
}

func newCheckCommand(g *Globals, s Streams) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [LAB]",
		Short: "Check your work now (exit 0 all pass, 1 some fail, 2 cannot evaluate)",
		Long: `check evaluates the checks of every step of LAB (or of every lab) against the
cluster. A step whose checks all pass is recorded as done, so a later step that
changes the cluster does not undo it.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCheck(cmd, g, s, o, args) },
	}
	addOutputFlag(cmd, &o.output)
	return cmd
}

// StepReport is a step's verdict in check's JSON output.
type StepReport struct {
	Lab     string         `json:"lab"`
	Step    string         `json:"step"`
	Title   string         `json:"title"`
	Passed  bool           `json:"passed"`
	Earlier bool           `json:"doneEarlier"`
	Results []check.Result `json:"results"`
}

func runCheck(cmd *cobra.Command, g *Globals, s Streams, o *checkOptions, args []string) error {
	set, err := loadLabs()
	if err != nil {
		return err
	}
	targets := set.Labs
	if len(args) == 1 {
		l, err := set.Get(args[0])
		if err != nil {
			return cannot(err)
		}
		targets = []*lab.Lab{l}
	}
	ps, err := g.progress()
	if err != nil {
		return err
	}
	pf, err := ps.Load()
	if err != nil {
		return cannot(err)
	}
	sess, err := g.openSession(cmd.Context(), s, set)
	if err != nil {
		return err
	}
	defer sess.Close()
	lang := g.lang()
	type heldStep struct {
		st      *lab.Step
		answers map[string]string
		hold    bool
	}
	var (
		reports []StepReport
		steps   []heldStep
	)
	allPass := true
	for _, l := range targets {
		lp := pf.Labs[l.ID]
		var answers map[string]string
		if lp != nil {
			answers = lp.Answers
		}
		for i := range l.Steps {
			st := &l.Steps[i]
			rs := sess.Evaluate(cmd.Context(), st, answers)
			for _, r := range rs {
				if r.Status == check.Error {
					return cannot(fmt.Errorf("%s/%s: check %s: %s", l.ID, st.ID, r.Check, r.Message))
				}
			}
			rep := StepReport{Lab: l.ID, Step: st.ID, Title: st.Title.In(lang), Results: rs, Passed: engine.AllPass(rs)}
			if !rep.Passed && lp.IsDone(st.ID) {
				rep.Passed, rep.Earlier = true, true
			}
			reports = append(reports, rep)
			steps = append(steps, heldStep{st, answers, rep.Passed && !rep.Earlier && !lp.IsDone(st.ID)})
		}
	}
	// A step is done once its checks keep passing for the settle time (a
	// readiness that flaps does not record it): every new pass is watched that
	// long, side by side.
	var wg sync.WaitGroup
	for i, h := range steps {
		if h.hold {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reports[i].Results, reports[i].Passed = sess.Hold(cmd.Context(), h.st, h.answers)
			}()
		}
	}
	wg.Wait()
	for i, rep := range reports {
		if rep.Passed && !rep.Earlier {
			if err := ps.Update(rep.Lab, func(p *progress.LabProgress) { p.MarkDone(steps[i].st.ID) }); err != nil {
				return err
			}
		}
		allPass = allPass && rep.Passed
	}
	if o.output == "json" {
		if err := writeJSON(s.Out, reports); err != nil {
			return err
		}
	} else {
		printReports(s.Out, reports)
	}
	if !allPass {
		return &ExitError{Code: ExitFail, Err: errors.New("some checks do not pass yet")}
	}
	return nil
}

func printReports(w io.Writer, reports []StepReport) {
	last := ""
	for _, r := range reports {
		if r.Lab != last {
			fmt.Fprintf(w, "%s\n", r.Lab)
			last = r.Lab
		}
		mark := "✗"
		if r.Passed {
			mark = "✓"
		}
		suffix := ""
		if r.Earlier {
			suffix = " (done earlier)"
		}
		fmt.Fprintf(w, "  %s %s — %s%s\n", mark, r.Step, r.Title, suffix)
		if r.Earlier {
			continue
		}
		for _, c := range r.Results {
			cm := map[check.Status]string{check.Pass: "✓", check.Fail: "✗", check.Error: "!", check.Pending: "…"}[c.Status]
			fmt.Fprintf(w, "      %s %s\n", cm, c.Message)
			if c.Diagnosis != "" {
				fmt.Fprintf(w, "        → %s\n", c.Diagnosis)
			}
			if c.Status != check.Pass {
				for _, e := range c.Evidence {
					fmt.Fprintf(w, "          %s\n", e)
				}
			}
		}
	}
}

func newHintCommand(g *Globals, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "hint LAB [STEP]",
		Short: "Show the next hint for a step (each call is more specific)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			lc, err := g.openLabStep(args)
			if err != nil {
				return err
			}
			l, st := lc.lab, lc.step
			n, last, err := learn.Learner{Store: lc.ps}.Hint(l, st)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "%s/%s — hint %d/%d:\n%s\n", l.ID, st.ID, n+1, len(st.Hints), strings.TrimSpace(st.Hints[n].In(g.lang())))
			if last {
				fmt.Fprintf(s.Out, "(that was the last hint; `kindlab solve %s %s` shows and performs the solution)\n", l.ID, st.ID)
			}
			return nil
		},
	}
}

func newSolveCommand(g *Globals, s Streams) *cobra.Command {
	var show, all bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "solve LAB [STEP]",
		Short: "Show and perform the reference solution of a step (the current one by default)",
		Long: `solve shows the commands of a step's reference solution and performs them,
then waits until the step's checks pass. With --all it performs every step of
the lab in order, leaving out the lab's closing clean-up step, so that the lab
ends finished (as ` + "`kindlab grade`" + ` grades it).`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all && len(args) > 1 {
				return cannot(errors.New("--all solves every step of the lab: give no STEP"))
			}
			lc, err := g.openLabStep(args)
			if err != nil {
				return err
			}
			set, ps, l := lc.set, lc.ps, lc.lab
			steps := []*lab.Step{lc.step}
			if all {
				steps = nil
				for i := range l.Steps {
					if !l.Steps[i].Teardown {
						steps = append(steps, &l.Steps[i])
					}
				}
			}
			for _, st := range steps {
				fmt.Fprintf(s.Out, "%s/%s — solution:\n", l.ID, st.ID)
				for _, c := range st.Solution.Commands {
					fmt.Fprintf(s.Out, "    $ %s\n", c)
				}
			}
			if show {
				return nil
			}
			sess, err := g.openSession(cmd.Context(), s, set)
			if err != nil {
				return err
			}
			defer sess.Close()
			w := learn.Learner{Store: ps, Eng: sess}
			for _, st := range steps {
				if all {
					// Entering a step runs its setup, as the UI and start do.
					if err := sess.Setup(cmd.Context(), l, st); err != nil {
						return err
					}
				}
				rs, err := w.Solve(cmd.Context(), l, st, timeout)
				if err != nil {
					if rs != nil {
						printReports(s.Out, []StepReport{{Lab: l.ID, Step: st.ID, Title: st.Title.In(g.lang()), Results: rs}})
					}
					return err
				}
				fmt.Fprintf(s.Out, "performed; every check of %s/%s passes\n", l.ID, st.ID)
			}
			if all {
				for _, st := range l.Steps {
					if st.Teardown {
						fmt.Fprintf(s.Out, "left out %s/%s (the lab's clean-up): `kindlab solve %s %s` performs it\n", l.ID, st.ID, l.ID, st.ID)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&show, "show", false, "only show the commands, change nothing")
	cmd.Flags().BoolVar(&all, "all", false, "perform every step of the lab in order (not its clean-up step)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Minute, "how long to wait for each step's checks to pass")
	return cmd
}

func newAnswerCommand(g *Globals, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "answer LAB STEP VALUE",
		Short: "Answer a step's question (a value a read-only command shows, e.g. a pod IP)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			lc, err := g.openLabStep(args[:2])
			if err != nil {
				return err
			}
			l := lc.lab
			if _, err := (learn.Learner{Store: lc.ps}).Answer(l, lc.step, args[2]); err != nil {
				if errors.Is(err, learn.ErrNoQuestion) {
					return cannot(err)
				}
				return err
			}
			fmt.Fprintf(s.Out, "recorded; run `kindlab check %s` to see if it is right\n", l.ID)
			return nil
		},
	}
}

func newResetCommand(g *Globals, s Streams) *cobra.Command {
	var hard bool
	cmd := &cobra.Command{
		Use:   "reset [LAB]",
		Short: "Remove what a lab (or every lab) created and forget its progress; --hard recreates the cluster",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := loadLabs()
			if err != nil {
				return err
			}
			targets := set.Labs
			id := ""
			if len(args) == 1 {
				l, err := set.Get(args[0])
				if err != nil {
					return cannot(err)
				}
				targets, id = []*lab.Lab{l}, l.ID
			}
			ps, err := g.progress()
			if err != nil {
				return err
			}
			start := time.Now()
			if hard {
				if g.Kubeconfig != "" {
					return cannot(errors.New("--hard recreates a kind cluster; it cannot with --kubeconfig"))
				}
				o := &upOptions{recreate: true}
				o.create.kubernetesVersion = images.DefaultKubernetesVersion
				o.create.hostPort = cluster.DefaultHostPort
				o.create.wait = 5 * time.Minute
				if err := runUp(cmd, g, s, o); err != nil {
					return err
				}
			} else {
				sess, err := g.openSession(cmd.Context(), s, set)
				if err != nil {
					return err
				}
				defer sess.Close()
				w := learn.Learner{Store: ps, Eng: sess}
				for _, l := range targets {
					if err := w.Reset(cmd.Context(), l); err != nil {
						return err
					}
				}
			}
			// Every lab's progress, also of labs this kindlab no longer has.
			if err := ps.Clear(id); err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "reset in %s\n", time.Since(start).Round(100*time.Millisecond))
			return nil
		},
	}
	cmd.Flags().BoolVar(&hard, "hard", false, "delete and recreate the whole cluster")
	return cmd
}
