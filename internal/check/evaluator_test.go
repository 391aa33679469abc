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

// TestAnswersWhileChecksRun: a solution (or the UI) records answers while a watcher
// evaluates the same step; run with -race, this found the shared map.
func TestAnswersWhileChecksRun(t *testing.T) {
	t.Parallel()
	e := newEval(t, "en", nil, readyPod("my-nginx-pod", nil, nil, "nginx:latest"))
	ans := &lab.Check{ID: "ip", Answer: &lab.AnswerCheck{Truth: "podIP", Object: "my-nginx-pod", Question: lab.Text{En: "pod IP?", Ko: "포드 IP?"}}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			e.SetAnswer("ip", "10.0.0.1")
			e.SetAnswers(map[string]string{"other": "x"})
		}
	}()
	for i := 0; i < 200; i++ {
		if r := e.Evaluate(context.Background(), ans); r.Status == Error {
			t.Fatalf("answer check: %s", r.Message)
		}
		_ = e.Answers()
	}
	<-done
}
