package tui

import (
	"context"
	"time"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/lab"
)

// Engine is what the UI needs from a lab session. It is an interface so that
// tests drive the screens with a fake; *engine.Session is the real one.
type Engine interface {
	// Watch evaluates with the learner's answers (given, never kept).
	Watch(ctx context.Context, st *lab.Step, answers map[string]string, interval time.Duration, out chan<- []check.Result)
	Setup(ctx context.Context, l *lab.Lab, st *lab.Step) error
	Solve(ctx context.Context, l *lab.Lab, st *lab.Step, answers map[string]string, timeout time.Duration) ([]check.Result, map[string]string, error)
	Reset(ctx context.Context, l *lab.Lab) error
	// SetLang switches the language of check messages; safe while checks run.
	SetLang(lang string)
	// Ping asks the cluster's API whether it is there.
	Ping(ctx context.Context) error
	// Nodes counts the cluster's nodes and those Ready, for the cluster line.
	Nodes(ctx context.Context) (ready, total int, err error)
}

var _ Engine = (*engine.Session)(nil)
