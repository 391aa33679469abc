// Package runner runs external programs (docker, go, debootstrap) with a context,
// sends their output to a log, and turns a failure into an error that carries the
// last lines of that output, so a learner sees why a step failed, not just "exit 1".
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Runner runs commands. Its zero value discards output.
type Runner struct {
	// Log receives every command line and all output. Nil discards.
	Log io.Writer
	// Env is added to the process environment of every command.
	Env []string
	// Dir is the working directory, if not empty.
	Dir string
}

// Cmd describes one invocation.
type Cmd struct {
	Name  string
	Args  []string
	Stdin io.Reader
	// Stdout, when set, receives standard output instead of the log.
	Stdout io.Writer
	Dir    string
	Env    []string
}

// Error is returned when a command fails; Tail holds its last output lines.
type Error struct {
	Command string
	Err     error
	Tail    string
}

func (e *Error) Error() string {
	if e.Tail == "" {
		return fmt.Sprintf("%s: %v", e.Command, e.Err)
	}
	return fmt.Sprintf("%s: %v\n%s", e.Command, e.Err, e.Tail)
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs name with args.
type logKey struct{}

// WithLog returns a context whose commands log to w instead of their Runner's Log
// (steps of a build that run side by side each log under their own name).
func WithLog(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, logKey{}, w)
}

// LogOf is the log WithLog put in ctx, or def.
func LogOf(ctx context.Context, def io.Writer) io.Writer {
	if w, ok := ctx.Value(logKey{}).(io.Writer); ok {
		return w
	}
	return def
}

func (r Runner) Run(ctx context.Context, name string, args ...string) error {
	return r.Do(ctx, Cmd{Name: name, Args: args})
}

// Output runs name with args and returns its standard output, trimmed.
func (r Runner) Output(ctx context.Context, name string, args ...string) (string, error) {
	var out bytes.Buffer
	err := r.Do(ctx, Cmd{Name: name, Args: args, Stdout: &out})
	return strings.TrimSpace(out.String()), err
}

// Do runs c.
func (r Runner) Do(ctx context.Context, c Cmd) error {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Env = append(append(os.Environ(), r.Env...), c.Env...)
	cmd.Dir = r.Dir
	if c.Dir != "" {
		cmd.Dir = c.Dir
	}
	cmd.Stdin = c.Stdin
	tail := &tailBuffer{max: 40}
	var log io.Writer = io.Discard
	if w, ok := ctx.Value(logKey{}).(io.Writer); ok {
		log = w
	} else if r.Log != nil {
		log = r.Log
	}
	line := c.Name + " " + strings.Join(c.Args, " ")
	fmt.Fprintf(log, "$ %s\n", line)
	errOut := io.MultiWriter(log, tail)
	cmd.Stderr = errOut
	if c.Stdout != nil {
		cmd.Stdout = c.Stdout
	} else {
		cmd.Stdout = errOut
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", c.Name, ctx.Err())
		}
		var notFound *exec.Error
		if errors.As(err, &notFound) {
			return fmt.Errorf("%s is not installed or not on PATH: %w", c.Name, err)
		}
		return &Error{Command: shorten(line), Err: err, Tail: tail.String()}
	}
	return nil
}

func shorten(s string) string {
	if len(s) > 160 {
		return s[:157] + "..."
	}
	return s
}

// tailBuffer keeps the last max lines written to it.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  string
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.part + string(p)
	parts := strings.Split(s, "\n")
	t.part = parts[len(parts)-1]
	t.lines = append(t.lines, parts[:len(parts)-1]...)
	if over := len(t.lines) - t.max; over > 0 {
		t.lines = t.lines[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if t.part != "" {
		lines = append(lines, t.part)
	}
	return strings.Join(lines, "\n")
}
