package cluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWedgedDockerDaemonIsReported: a daemon whose socket accepts and never
// answers (here: a docker command that never returns) gives ErrDockerDown with
// what to do, instead of hanging every command.
func TestAWedgedDockerDaemonIsReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte("#!/bin/sh\nexec sleep 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	old := dockerAnswerTimeout
	dockerAnswerTimeout = 300 * time.Millisecond
	t.Cleanup(func() { dockerAnswerTimeout = old })

	m := New(Options{})
	err := m.CheckDocker(context.Background())
	if !errors.Is(err, ErrDockerDown) || !strings.Contains(err.Error(), "did not answer within") {
		t.Errorf("CheckDocker: %v", err)
	}
	if _, err := m.Exists("kindlab"); !errors.Is(err, ErrDockerDown) {
		t.Errorf("Exists: %v", err)
	}
}
