package cluster

import (
	"fmt"
	"strings"
	"time"

	kindlog "sigs.k8s.io/kind/pkg/log"
)

// Progress is one line of progress: kind's steps ("Ensuring node image", "Starting
// control-plane") and kindlab's own.
type Progress struct {
	Step    string
	Done    bool
	Failed  bool
	Elapsed time.Duration // set when Done or Failed
}

// progressLogger adapts kind's logger to Progress events. kind reports a step as
// " • Step  ..." when it starts and " ✓ Step" / " ✗ Step" when it ends; everything
// else goes to the debug log.
type progressLogger struct {
	emit    func(Progress)
	debug   func(string)
	verbose kindlog.Level
	started map[string]time.Time
}

func newProgressLogger(emit func(Progress), debug func(string), verbosity kindlog.Level) *progressLogger {
	return &progressLogger{emit: emit, debug: debug, verbose: verbosity, started: map[string]time.Time{}}
}

func (l *progressLogger) Warn(m string)             { l.debug("warning: " + m) }
func (l *progressLogger) Warnf(f string, a ...any)  { l.Warn(fmt.Sprintf(f, a...)) }
func (l *progressLogger) Error(m string)            { l.debug("error: " + m) }
func (l *progressLogger) Errorf(f string, a ...any) { l.Error(fmt.Sprintf(f, a...)) }
func (l *progressLogger) V(v kindlog.Level) kindlog.InfoLogger {
	return infoLogger{l: l, enabled: v <= l.verbose, level: v}
}

type infoLogger struct {
	l       *progressLogger
	enabled bool
	level   kindlog.Level
}

func (i infoLogger) Enabled() bool            { return i.enabled }
func (i infoLogger) Infof(f string, a ...any) { i.Info(fmt.Sprintf(f, a...)) }
func (i infoLogger) Info(m string) {
	if i.level == 0 && i.l.status(m) {
		return
	}
	if i.enabled {
		i.l.debug(strings.TrimRight(m, "\n"))
	}
}

// status turns kind's status lines into Progress; it reports whether m was one.
func (l *progressLogger) status(m string) bool {
	s := strings.TrimSpace(m)
	switch {
	case strings.HasPrefix(s, "• ") && strings.HasSuffix(s, "..."):
		step := cleanStep(strings.TrimSuffix(strings.TrimPrefix(s, "• "), "..."))
		l.started[step] = time.Now()
		l.emit(Progress{Step: step})
		return true
	case strings.HasPrefix(s, "✓ "), strings.HasPrefix(s, "✗ "):
		step := cleanStep(s[len("✓ "):])
		l.emit(Progress{Step: step, Done: strings.HasPrefix(s, "✓"), Failed: strings.HasPrefix(s, "✗"), Elapsed: time.Since(l.started[step])})
		return true
	}
	return false
}

// cleanStep drops kind's emoji and padding so the step reads as plain text.
func cleanStep(s string) string {
	var b strings.Builder
	for _, r := range s {
		emoji := r >= 0x1F000 || (r >= 0x2600 && r <= 0x27BF) || (r >= 0xFE00 && r <= 0xFE0F) || r == 0x200D
		if !emoji {
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}
