package grade

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
)

// JUnit XML as CI servers read it (Jenkins, GitLab, GitHub Actions reporters):
// <testsuites> with one <testsuite> per lab and one <testcase> per check; a failed
// check has <failure>, a check that could not run <error>, a skipped one <skipped>.
// The attributes the strict Ant schema requires (timestamp, hostname, id, package,
// properties, system-out, system-err) are all written.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	ID         int             `xml:"id,attr"`
	Package    string          `xml:"package,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out"`
	SystemErr  string          `xml:"system-err"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	host, _ := os.Hostname()
	out := junitSuites{Name: "kindlab", Time: seconds(r.Seconds)}
	for i, l := range r.Labs {
		s := junitSuite{
			Name: l.ID, ID: i, Package: "kindlab", Time: seconds(r.Seconds),
			Timestamp: r.StartedAt.Format("2006-01-02T15:04:05"), Hostname: host,
			Properties: []junitProperty{
				{Name: "title", Value: l.Title},
				{Name: "target", Value: r.Target},
				{Name: "namespace", Value: r.Namespace},
				{Name: "lang", Value: r.Lang},
			},
		}
		for _, c := range l.Checks {
			tc := junitCase{
				Name:      c.Step + "/" + c.ID + ": " + c.Title,
				Classname: "kindlab." + l.ID + "." + c.Step,
				Time:      seconds(c.Seconds),
			}
			detail := c.Message
			if c.Diagnosis != "" {
				detail += "\n→ " + c.Diagnosis
			}
			if len(c.Evidence) > 0 {
				detail += "\n" + strings.Join(c.Evidence, "\n")
			}
			switch c.Status {
			case Failed:
				tc.Failure = &junitProblem{Message: c.Message, Type: "CheckFailed", Text: detail}
				s.Failures++
			case Errored:
				tc.Error = &junitProblem{Message: c.Message, Type: "CheckError", Text: detail}
				s.Errors++
			case Skipped:
				tc.Skipped = &junitSkipped{Message: c.Message}
				s.Skipped++
			}
			s.Tests++
			s.Cases = append(s.Cases, tc)
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Skipped += s.Skipped
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteJSON writes the report as indented JSON (field names: see Report).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the human summary: one line per lab, then every check that
// did not pass with its message and evidence.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%-22s %-7s %6s %6s %7s %6s\n", "LAB", "RESULT", "PASSED", "FAILED", "SKIPPED", "ERRORS")
	for _, l := range r.Labs {
		var p, f, s, e int
		for _, c := range l.Checks {
			switch c.Status {
			case Passed:
				p++
			case Failed:
				f++
			case Skipped:
				s++
			case Errored:
				e++
			}
		}
		res := "pass"
		if !l.Passed {
			res = "FAIL"
		}
		fmt.Fprintf(w, "%-22s %-7s %6d %6d %7d %6d\n", l.ID, res, p, f, s, e)
	}
	for _, l := range r.Labs {
		for _, c := range l.Checks {
			if c.Status != Failed && c.Status != Errored {
				continue
			}
			fmt.Fprintf(w, "\n✗ %s/%s/%s — %s\n    %s\n", l.ID, c.Step, c.ID, c.Title, c.Message)
			if c.Diagnosis != "" {
				fmt.Fprintf(w, "    → %s\n", c.Diagnosis)
			}
			for _, e := range c.Evidence {
				fmt.Fprintf(w, "      %s\n", e)
			}
		}
	}
	s := r.Summary
	fmt.Fprintf(w, "\n%d labs, %d checks: %d passed, %d failed, %d skipped, %d errors (%.1fs)\n",
		s.Labs, s.Checks, s.Passed, s.Failed, s.Skipped, s.Errors, r.Seconds)
}
