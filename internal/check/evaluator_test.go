package check

import (
	"context"
	"strings"
	"testing"

	"github.com/kindlab/kindlab/internal/lab"
)

func TestPrintable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain\ttext\nok":         "plain\ttext\nok",
		"\x1b]0;pwned\x07title":   `\x1b]0;pwned\x07title`,
		"\x1b[2J\x1b[Hcleared":    `\x1b[2J\x1b[Hcleared`,
		"bad \xff byte":           `bad \xff byte`,
		"한국어 그대로":                 "한국어 그대로",
		"carriage\rreturn\x00nul": `carriage\x0dreturn\x00nul`,
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestEvidenceFromPodsIsPrintable: what a pod sends back reaches the learner's
// terminal and the reports without its control sequences.
func TestEvidenceFromPodsIsPrintable(t *testing.T) {
	t.Parallel()
	// Every in-cluster request is answered with terminal escapes.
	e := newEval(t, "en", &fakeCluster{probeOut: "\x1b]52;c;cGF3bmVk\x07\x1b[2J" + replySep})
	r := e.Evaluate(context.Background(), &lab.Check{ID: "web", HTTP: &lab.HTTPCheck{URL: "http://10.0.0.1/", Contains: "Hello"}})
	for _, s := range append([]string{r.Message}, r.Evidence...) {
		if strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("control characters reach the result: %q", s)
		}
	}
	if r.Status != Fail {
		t.Errorf("status %v, want fail", r.Status)
	}
}
