package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kindlab/kindlab/internal/atomicfile"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/grade"
	"github.com/kindlab/kindlab/internal/lab"
)

type gradeOptions struct {
	all     bool
	junit   string
	json    string
	timeout time.Duration
}

func newGradeCommand(g *Globals, s Streams) *cobra.Command {
	o := &gradeOptions{}
	cmd := &cobra.Command{
		Use:   "grade [LAB...] [--all]",
		Short: "Grade the finished labs for CI: JUnit and JSON reports, exit 0 pass / 1 fail / 2 cannot grade",
		Long: `grade looks at the state a learner left in the cluster and grades each lab as
finished: every check of every step, except the lab's closing clean-up step, checks
of a middle state a later step changes, and questions answered by typing a value
(reported as skipped). It waits up to --timeout for every graded check to pass,
re-evaluating whenever a watched object changes, and changes nothing.

Exit codes: 0 every graded check passes; 1 some fail; 2 could not grade (no
cluster, unknown lab, API unreachable, a check that could not be evaluated).

Works against any cluster with --kubeconfig/--context, in the namespace of
--namespace (default: default).`,
		Example: `  kindlab grade --all --junit report.xml --json report.json
  kindlab grade pod deployment --timeout 2m
  kindlab grade --all --kubeconfig learner.kubeconfig --namespace student-01`,
		RunE: func(cmd *cobra.Command, args []string) error { return runGrade(cmd, g, s, o, args) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.all, "all", false, "grade every lab of the chapter")
	f.StringVar(&o.junit, "junit", "", "write a JUnit XML report to FILE (- for standard output)")
	f.StringVar(&o.json, "json", "", "write a JSON report to FILE (- for standard output)")
	f.DurationVar(&o.timeout, "timeout", time.Minute, "how long to wait for the checks to pass (0: look once)")
	return cmd
}

func runGrade(cmd *cobra.Command, g *Globals, s Streams, o *gradeOptions, args []string) error {
	set, err := loadLabs()
	if err != nil {
		return err
	}
	var targets []*lab.Lab
	switch {
	case o.all && len(args) > 0:
		return cannot(errors.New("give lab ids or --all, not both"))
	case o.all:
		targets = set.Labs
	case len(args) == 0:
		return cannot(errors.New("name the labs to grade, or --all (see `kindlab labs`)"))
	default:
		for _, id := range args {
			l, err := set.Get(id)
			if err != nil {
				return cannot(err)
			}
			targets = append(targets, l)
		}
	}
	if o.junit == "-" && o.json == "-" {
		return cannot(errors.New("only one of --junit and --json can write to standard output"))
	}
	ctx := cmd.Context()
	sess, err := g.openSession(ctx, s, set)
	if err != nil {
		return err
	}
	defer sess.Close()
	if err := sess.Ping(ctx); err != nil {
		return cannot(fmt.Errorf("the cluster's API server does not answer: %w", err))
	}
	target := g.Cluster
	if g.Kubeconfig != "" {
		target = g.Kubeconfig
		if g.Context != "" {
			target += " (" + g.Context + ")"
		}
	}
	rep, runErr := grade.Run(ctx, sess, targets, grade.Options{
		Timeout: o.timeout, Target: target, Namespace: g.Namespace, Lang: g.lang(), Settle: engine.Settle,
	})
	// Whatever was seen is written, even when grading was interrupted.
	table := s.Out
	for _, w := range []struct {
		path  string
		write func(io.Writer) error
	}{{o.junit, rep.WriteJUnit}, {o.json, rep.WriteJSON}} {
		switch w.path {
		case "":
		case "-":
			if err := w.write(s.Out); err != nil {
				return err
			}
			table = s.Err
		default:
			if err := atomicfile.Write(w.path, 0o644, w.write); err != nil {
				return cannot(fmt.Errorf("write %s: %w", w.path, err))
			}
		}
	}
	rep.WriteTable(table)
	if runErr != nil {
		return runErr
	}
	if err := rep.Verdict(); err != nil {
		if errors.Is(err, grade.ErrNothingGraded) {
			return cannot(fmt.Errorf("%w: every check of theirs is a question the learner answers (`kindlab answer`), which a cluster does not hold; `kindlab check LAB` checks the answers on the learner's machine", err))
		}
		if rep.Summary.Errors > 0 {
			return cannot(err)
		}
		return &ExitError{Code: ExitFail, Err: err}
	}
	return nil
}
