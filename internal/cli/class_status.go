package cli

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/kindlab/kindlab/internal/class"
	"github.com/kindlab/kindlab/internal/grade"
	"github.com/kindlab/kindlab/internal/lab"
)

// LearnerStatus is one learner's row in `class status -o json`.
type LearnerStatus struct {
	Learner   string `json:"learner"`
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Error     string `json:"error,omitempty"`
	// LastChange is when the learner last changed an object of their labs with
	// kubectl or kindlab (absent: never, or their cluster did not answer).
	LastChange *time.Time    `json:"lastChange,omitempty"`
	Labs       []LabProgress `json:"labs"`
}

// lab is the learner's state of lab id (none when their cluster did not answer).
func (r LearnerStatus) lab(id string) (LabProgress, bool) {
	for _, p := range r.Labs {
		if p.Lab == id {
			return p, true
		}
	}
	return LabProgress{}, false
}

// LabProgress is a learner's state of one lab: graded checks passing now.
type LabProgress struct {
	Lab    string `json:"lab"`
	Passed int    `json:"passed"`
	Graded int    `json:"graded"`
	Done   bool   `json:"done"`
	// Checks are the graded checks, each with its status and, when it fails,
	// its diagnosis.
	Checks []CheckProgress `json:"checks"`
}

// CheckProgress is one graded check of a learner's lab.
type CheckProgress struct {
	Step      string       `json:"step"`
	ID        string       `json:"id"`
	Status    grade.Status `json:"status"`
	Diagnosis string       `json:"diagnosis,omitempty"`
}

// started: the learner has begun the lab (a check passes, or a failing one has
// something of theirs to diagnose).
func (p LabProgress) started() bool {
	if p.Passed > 0 {
		return true
	}
	for _, c := range p.Checks {
		if c.Diagnosis != "" {
			return true
		}
	}
	return false
}

// statusWorkers is how many learners `class status` grades at once.
const statusWorkers = 6

// statusFormat is class status's -o: text, json or csv.
type statusFormat string

func (o *statusFormat) String() string { return string(*o) }
func (o *statusFormat) Type() string   { return "format" }
func (o *statusFormat) Set(s string) error {
	if s != "" && s != "json" && s != "csv" {
		return fmt.Errorf("%q: the formats are json and csv", s)
	}
	*o = statusFormat(s)
	return nil
}

func newClassStatusCommand(g *Globals, s Streams) *cobra.Command {
	var (
		output statusFormat
		idle   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every learner's progress per lab, where the class is stuck, and who is idle",
		Long: `status grades every learner's labs as they are now (as ` + "`kindlab grade --timeout 0`" + `
does): a lab is done when all its graded checks pass, else the table shows how
many pass. A learner whose cluster does not answer is shown as such.

Under the table: the graded checks that learners who began the lab fail, most
failed first, each with the diagnosis most of them share; then the learners who
have changed nothing (with kubectl or kindlab) for --idle.

-o csv writes a gradebook: a row per learner, a column per graded check (1 point
when it passes, 0 when not, empty when the learner's cluster did not answer),
then the points, the most points and the learner's last change.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, _, err := loadClass()
			if err != nil {
				return err
			}
			set, err := loadLabs()
			if err != nil {
				return err
			}
			// Learners are graded side by side, statusWorkers at a time: each is a
			// few API lists and in-cluster requests, mostly waiting.
			rows := make([]LearnerStatus, len(c.Learners))
			sem := make(chan struct{}, statusWorkers)
			var wg sync.WaitGroup
			for i := range c.Learners {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					rows[i] = learnerStatus(ctx, g, c, &c.Learners[i], set)
				}()
			}
			wg.Wait()
			switch output {
			case "json":
				return writeJSON(s.Out, rows)
			case "csv":
				return writeGradebook(s.Out, set, rows)
			}
			writeStatusTable(s.Out, set, rows)
			writeStuck(s.Out, set, rows)
			writeIdle(s.Out, rows, idle, time.Now())
			return nil
		},
	}
	cmd.Flags().VarP(&output, "output", "o", "output format: json, or csv for a gradebook (default: text)")
	cmd.Flags().DurationVar(&idle, "idle", 10*time.Minute, "name the learners who have changed nothing for this long")
	return cmd
}

func learnerStatus(ctx context.Context, g *Globals, c *class.Class, l *class.Learner, set *lab.Set) LearnerStatus {
	row := LearnerStatus{Learner: l.Name, Cluster: l.Cluster, Namespace: l.Namespace, Labs: []LabProgress{}}
	sess, err := learnerSession(ctx, g, c, l, set)
	if err != nil {
		row.Error = err.Error()
		return row
	}
	defer sess.Close()
	rep, err := grade.Run(ctx, sess, set.Labs, grade.Options{Lang: g.lang(), Namespace: l.Namespace, Target: l.Cluster})
	if err != nil {
		row.Error = err.Error()
	}
	if t := sess.LastChange(); !t.IsZero() {
		row.LastChange = &t
	}
	for _, lr := range rep.Labs {
		p := LabProgress{Lab: lr.ID, Checks: []CheckProgress{}}
		for _, ch := range lr.Checks {
			if ch.Status == grade.Skipped {
				continue
			}
			p.Graded++
			if ch.Status == grade.Passed {
				p.Passed++
			}
			p.Checks = append(p.Checks, CheckProgress{Step: ch.Step, ID: ch.ID, Status: ch.Status, Diagnosis: ch.Diagnosis})
		}
		p.Done = p.Graded > 0 && p.Passed == p.Graded
		row.Labs = append(row.Labs, p)
	}
	return row
}

func writeStatusTable(w io.Writer, set *lab.Set, rows []LearnerStatus) {
	fmt.Fprintf(w, "%-22s", "LAB")
	for _, r := range rows {
		fmt.Fprintf(w, " %-11s", r.Learner)
	}
	fmt.Fprintln(w)
	for _, l := range set.Labs {
		fmt.Fprintf(w, "%-22s", l.ID)
		for _, r := range rows {
			cell := "?"
			if p, ok := r.lab(l.ID); ok {
				switch {
				case p.Done:
					cell = "done"
				case p.Passed == 0:
					cell = "-"
				default:
					cell = fmt.Sprintf("%d/%d", p.Passed, p.Graded)
				}
			}
			fmt.Fprintf(w, " %-11s", cell)
		}
		fmt.Fprintln(w)
	}
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Learner, r.Error)
		}
	}
}

// stuckCheck is one graded check in the class heatmap.
type stuckCheck struct {
	ref            string // lab/step/check
	order          int
	failing, began int
	diagnosis      string // the most common diagnosis
	sharing        int    // how many failing learners have it
}

// stuck counts, for each graded check, the learners who began its lab and fail
// it, and the diagnosis most of them share; most failed first, then in the
// chapter's order.
func stuck(set *lab.Set, rows []LearnerStatus) []stuckCheck {
	var out []stuckCheck
	order := 0
	for _, l := range set.Labs {
		for _, it := range grade.Plan(l) {
			if it.Skip != "" {
				continue
			}
			order++
			sc := stuckCheck{ref: l.ID + "/" + it.Step.ID + "/" + it.Check.ID, order: order}
			count := map[string]int{}
			for _, r := range rows {
				p, ok := r.lab(l.ID)
				if !ok || !p.started() {
					continue
				}
				sc.began++
				for _, c := range p.Checks {
					if c.Step == it.Step.ID && c.ID == it.Check.ID && c.Status != grade.Passed {
						sc.failing++
						if c.Diagnosis != "" {
							count[generalName(c.Diagnosis)]++
						}
					}
				}
			}
			for d, n := range count {
				if n > sc.sharing || n == sc.sharing && d < sc.diagnosis {
					sc.diagnosis, sc.sharing = d, n
				}
			}
			if sc.failing > 0 {
				out = append(out, sc)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b stuckCheck) int {
		return cmp.Or(cmp.Compare(b.failing, a.failing), cmp.Compare(a.order, b.order))
	})
	return out
}

// nameRE finds names in a diagnosis.
var nameRE = regexp.MustCompile(`\b[a-z0-9]+(?:-[a-z0-9]+)+\b`)

// generalName writes the names a Deployment gives its ReplicaSets and pods
// (NAME-<template hash>, NAME-<template hash>-<suffix>) as NAME-…, so that
// learners' diagnoses about their own pods read alike.
func generalName(diagnosis string) string {
	return nameRE.ReplaceAllStringFunc(diagnosis, func(n string) string {
		parts := strings.Split(n, "-")
		if k := len(parts); k >= 3 && isPodSuffix(parts[k-1]) && isHash(parts[k-2]) {
			return strings.Join(parts[:k-2], "-") + "-…"
		}
		if k := len(parts); k >= 2 && isHash(parts[k-1]) {
			return strings.Join(parts[:k-1], "-") + "-…"
		}
		return n
	})
}

// isHash: a pod-template hash, 8 to 10 letters and digits with a digit in it.
func isHash(s string) bool {
	return len(s) >= 8 && len(s) <= 10 && strings.ContainsAny(s, "0123456789")
}

// isPodSuffix: the 5 characters of a generated name, which has no vowels.
func isPodSuffix(s string) bool {
	return len(s) == 5 && !strings.ContainsAny(s, "aeiou013")
}

// stuckRows is how many checks the text heatmap shows (-o json has them all).
const stuckRows = 15

func writeStuck(w io.Writer, set *lab.Set, rows []LearnerStatus) {
	sc := stuck(set, rows)
	if len(sc) == 0 {
		return
	}
	more := 0
	if len(sc) > stuckRows {
		sc, more = sc[:stuckRows], len(sc)-stuckRows
	}
	width := len("CHECK")
	for _, c := range sc {
		width = max(width, len(c.ref))
	}
	fmt.Fprintf(w, "\nWhere the class is stuck (graded checks failed by learners who began the lab):\n")
	fmt.Fprintf(w, "%-*s %7s  %s\n", width, "CHECK", "FAILING", "MOST COMMON DIAGNOSIS")
	for _, c := range sc {
		d := "-"
		if c.diagnosis != "" {
			d = fmt.Sprintf("%s (%d)", c.diagnosis, c.sharing)
		}
		fmt.Fprintf(w, "%-*s %7s  %s\n", width, c.ref, fmt.Sprintf("%d/%d", c.failing, c.began), d)
	}
	if more > 0 {
		fmt.Fprintf(w, "… and %d more checks (class status -o json lists every check of every learner)\n", more)
	}
}

func writeIdle(w io.Writer, rows []LearnerStatus, idle time.Duration, now time.Time) {
	if idle <= 0 {
		return
	}
	var names []string
	for _, r := range rows {
		switch {
		case r.Error != "":
		case r.LastChange == nil:
			names = append(names, r.Learner+" (no change yet)")
		case now.Sub(*r.LastChange) >= idle:
			names = append(names, fmt.Sprintf("%s (last change %s ago)", r.Learner, now.Sub(*r.LastChange).Round(time.Minute)))
		}
	}
	if len(names) > 0 {
		fmt.Fprintf(w, "\nIdle for %s or more: %s\n", idle, strings.Join(names, ", "))
	}
}

// writeGradebook writes rows as CSV: a row per learner, a column per graded
// check (1 point passing, 0 not, empty when unknown), the points, the most
// points, and the last change (RFC 3339, empty for none).
func writeGradebook(w io.Writer, set *lab.Set, rows []LearnerStatus) error {
	type col struct{ lab, step, check string }
	var cols []col
	head := []string{"learner", "cluster", "namespace"}
	for _, l := range set.Labs {
		for _, it := range grade.Plan(l) {
			if it.Skip == "" {
				cols = append(cols, col{l.ID, it.Step.ID, it.Check.ID})
				head = append(head, l.ID+"/"+it.Step.ID+"/"+it.Check.ID)
			}
		}
	}
	head = append(head, "points", "max points", "last change")
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.Learner, r.Cluster, r.Namespace}
		points := 0
		for _, c := range cols {
			cell := ""
			if p, ok := r.lab(c.lab); ok {
				cell = "0"
				for _, ch := range p.Checks {
					if ch.Step == c.step && ch.ID == c.check && ch.Status == grade.Passed {
						cell = "1"
						points++
					}
				}
			}
			rec = append(rec, cell)
		}
		last := ""
		if r.LastChange != nil {
			last = r.LastChange.UTC().Format(time.RFC3339)
		}
		rec = append(rec, strconv.Itoa(points), strconv.Itoa(len(cols)), last)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
