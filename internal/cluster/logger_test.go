package cluster

import (
	"slices"
	"testing"
)

func TestProgressLoggerTurnsKindStatusIntoSteps(t *testing.T) {
	t.Parallel()
	var got []Progress
	var debug []string
	l := newProgressLogger(func(p Progress) { got = append(got, p) }, func(s string) { debug = append(debug, s) }, 0)
	l.V(0).Infof(" • %s  ...\n", "Ensuring node image (kindlab/node:v1.37.2) 🖼")
	l.V(0).Infof(" ✓ %s\n", "Ensuring node image (kindlab/node:v1.37.2) 🖼")
	l.V(0).Infof(" • %s  ...\n", "Starting control-plane 🕹️")
	l.V(0).Infof(" ✗ %s\n", "Starting control-plane 🕹️")
	l.V(0).Info("Set kubectl context to \"kind-kindlab\"")
	l.V(1).Info("hidden at verbosity 0")
	l.Warn("careful")

	want := []Progress{
		{Step: "Ensuring node image (kindlab/node:v1.37.2)"},
		{Step: "Ensuring node image (kindlab/node:v1.37.2)", Done: true},
		{Step: "Starting control-plane"},
		{Step: "Starting control-plane", Failed: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g := got[i]
		g.Elapsed = 0
		if g != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, g, want[i])
		}
	}
	wantDebug := []string{`Set kubectl context to "kind-kindlab"`, "warning: careful"}
	if !slices.Equal(debug, wantDebug) {
		t.Errorf("debug = %q, want %q", debug, wantDebug)
	}
}

func TestCleanStepKeepsKorean(t *testing.T) {
	t.Parallel()
	if got := cleanStep("클러스터 준비 ⛵ "); got != "클러스터 준비" {
		t.Errorf("cleanStep = %q", got)
	}
}
