package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/selftest"
)

func newLabsSelftestCommand(g *Globals, s Streams) *cobra.Command {
	var (
		dir     string
		output  outputFormat
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "selftest [LAB...]",
		Short: "Prove the labs' checks on the cluster: start fails, near-misses fail with their diagnosis, the solution passes",
		Long: `selftest proves each lab's checks on a real cluster (the one --cluster or
--kubeconfig names, in --namespace): for every step, the step's start state
fails every check; each near-miss the step declares (a label with a typo,
replicas off by one, the wrong Service type, ...) fails the check it names with
the diagnosis it names; and the reference solution passes every check and keeps
passing for the settle time. Each lab is reset before and after, and the reset
must leave the namespace as it found it.

It changes the namespace: run it on a cluster, or in a namespace, of its own,
never on a learner's work. --dir proves a lab pack on disk (labs/, manifests/).

Exit 0 when everything holds, 1 when something does not, 2 when it could not run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			set, done, err := loadPack(dir)
			if err != nil {
				if exit := (*ExitError)(nil); errors.As(err, &exit) {
					return err
				}
				return cannot(fmt.Errorf("the lab files do not load (run `kindlab labs lint`): %w", err))
			}
			defer done()
			targets := set.Labs
			if len(args) > 0 {
				targets = nil
				for _, id := range args {
					l, err := set.Get(id)
					if err != nil {
						return cannot(err)
					}
					targets = append(targets, l)
				}
			}
			// Near-misses name what their diagnosis says in English.
			g.Lang = "en"
			sess, err := g.openSession(ctx, s, set)
			if err != nil {
				return err
			}
			defer sess.Close()
			progress := func(line string) { fmt.Fprintln(s.Err, line) }
			if output != "json" {
				progress = func(line string) { fmt.Fprintln(s.Out, line) }
			}
			rep, runErr := selftest.Run(ctx, sess, targets, selftest.Options{SolveTimeout: timeout, Progress: progress})
			if output == "json" {
				if err := writeJSON(s.Out, rep); err != nil {
					return err
				}
			} else {
				printSelftest(s, targets, rep)
			}
			if runErr != nil {
				return cannot(runErr)
			}
			if rep.Verdict() != nil {
				return &ExitError{Code: ExitFail, Err: errors.New("selftest found problems")}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "a lab pack directory with labs/ and manifests/")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Minute, "how long a step's checks may take to pass after its solution")
	addOutputFlag(cmd, &output)
	return cmd
}

func printSelftest(s Streams, labs []*lab.Lab, rep *selftest.Report) {
	steps, misses, bad := 0, 0, 0
	for _, l := range rep.Labs {
		for _, st := range l.Steps {
			steps++
			misses += len(st.NearMisses)
			if !st.Passed {
				bad++
			}
		}
		for _, p := range l.Problems {
			fmt.Fprintf(s.Out, "✗ %s: %s\n", l.ID, p)
		}
	}
	verdict := "all hold"
	if !rep.Passed {
		verdict = fmt.Sprintf("%d steps with problems", bad)
	}
	fmt.Fprintf(s.Out, "\n%d of %d labs, %d steps, %d near-misses: %s (%.1fs)\n", len(rep.Labs), len(labs), steps, misses, verdict, rep.Seconds)
}
