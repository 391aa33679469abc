package tui

import (
	"errors"
	"strings"
	"testing"
)

func TestClusterDownIsShownAndClears(t *testing.T) {
	h := newHarness(t, "en", nil)
	h.send(healthMsg{err: errors.New("connection refused")})
	if v := h.m.View().Content; !strings.Contains(v, "the cluster does not answer (connection refused)") || !strings.Contains(v, "kindlab up") {
		t.Errorf("view does not say the cluster is down:\n%s", v)
	}
	h.send(healthMsg{})
	if v := h.m.View().Content; strings.Contains(v, "does not answer") {
		t.Errorf("the warning stayed after the cluster answered:\n%s", v)
	}
}

// The lab list's first line shows the cluster's nodes once the UI has asked.
func TestClusterLineShowsTheNodes(t *testing.T) {
	h := newHarness(t, "en", nil)
	if first := strings.SplitN(h.m.View().Content, "\n", 2)[0]; strings.Contains(first, "node") {
		t.Errorf("nodes shown before anyone asked: %q", first)
	}
	h.send(healthMsg{ready: 2, total: 3})
	if first := strings.SplitN(h.m.View().Content, "\n", 2)[0]; !strings.Contains(first, "3 nodes, 2 Ready") || !strings.Contains(first, "EN") {
		t.Errorf("first line = %q, want the nodes and the language", first)
	}
	h.send(healthMsg{ready: 1, total: 1})
	if first := strings.SplitN(h.m.View().Content, "\n", 2)[0]; !strings.Contains(first, "1 node, Ready") {
		t.Errorf("first line = %q", first)
	}
}
