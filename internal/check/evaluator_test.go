package check

import (
	"context"
	"encoding/json"
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
	r := e.Evaluate(context.Background(), &lab.Check{ID: "web", HTTP: &lab.HTTPCheck{URL: "http://10.0.0.1/", Contains: "Hello"}}, nil)
	for _, s := range append([]string{r.Message}, r.Evidence...) {
		if strings.ContainsAny(s, "\x1b\x07") {
			t.Errorf("control characters reach the result: %q", s)
		}
	}
	if r.Status != Fail {
		t.Errorf("status %v, want fail", r.Status)
	}
}

// TestAnswersAreTheCallers: two evaluations with different answers at once each
// see their own (the evaluator keeps none; it once shared one map, which a
// -race test found).
func TestAnswersAreTheCallers(t *testing.T) {
	t.Parallel()
	pod := readyPod("my-nginx-pod", nil, nil, "nginx:latest")
	e := newEval(t, "en", nil, pod)
	ans := &lab.Check{ID: "ip", Answer: &lab.AnswerCheck{Truth: "podIP", Object: "my-nginx-pod", Question: lab.Text{En: "pod IP?", Ko: "포드 IP?"}}}
	right, wrong := map[string]string{"ip": pod.Status.PodIP}, map[string]string{"ip": "10.0.0.1"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			if r := e.Evaluate(context.Background(), ans, wrong); r.Status != Fail {
				t.Errorf("a wrong answer passed: %s", r.Message)
				return
			}
		}
	}()
	for i := 0; i < 200; i++ {
		if r := e.Evaluate(context.Background(), ans, right); r.Status != Pass {
			t.Fatalf("the right answer: %s %s", r.Status, r.Message)
		}
	}
	<-done
}

func TestStatusReadsBackFromJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []Status{Pending, Pass, Fail, Error} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var got Status
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("%s: %s read back as %s (%v)", s, b, got, err)
		}
	}
	var s Status
	if err := json.Unmarshal([]byte(`"maybe"`), &s); err == nil {
		t.Error("an unknown status was read")
	}
}
