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
