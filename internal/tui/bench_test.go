package tui

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/progress"
)

// frameWriter is the program's terminal: it keeps what was written since the
// last reset and wakes a waiter on every write.
type frameWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *frameWriter) reset() {
	w.mu.Lock()
	w.buf.Reset()
	w.mu.Unlock()
}

func (w *frameWriter) has(s string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Contains(w.buf.Bytes(), []byte(s))
}

// BenchmarkVerdictToFrame measures the UI's part of a verdict's latency with the
// real Bubble Tea program and its renderer (60 frames a second): from the
// engine's results entering the watch's channel to the terminal output holding
// the changed verdict. 100 changes per iteration on a step of three checks,
// alternating all passing (a ✓ is drawn, the step is recorded done) and one
// failing with a new message. The engine's part, from the watch event to the
// results, is measured on a real cluster by BenchmarkLabEngine/verdict-latency.
func BenchmarkVerdictToFrame(b *testing.B) {
	eng := newFakeEngine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewModel(ctx, Options{Labs: testLabs(), Engine: eng, Progress: progress.Open(b.TempDir(), "bench"), Lang: "en"})
	out := &frameWriter{wrote: make(chan struct{}, 1)}
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithOutput(out), tea.WithInput(nil),
		tea.WithWindowSize(100, 30), tea.WithoutSignalHandler())
	ran := make(chan error, 1)
	go func() { _, err := p.Run(); ran <- err }()
	waitDrawn := func(s string) {
		deadline := time.After(10 * time.Second)
		for !out.has(s) {
			select {
			case <-out.wrote:
			case <-deadline:
				b.Fatalf("%q never drawn; screen:\n%s", s, out.buf.String())
			}
		}
	}
	waitDrawn("open lab") // the lab list is up and takes keys
	p.Send(keyPress("down"))
	p.Send(keyPress("enter"))
	var w fakeWatch
	select {
	case w = <-eng.watching:
	case <-time.After(10 * time.Second):
		b.Fatalf("the deployment step started no watch; screen:\n%s", out.buf.String())
	}
	w.out <- []check.Result{fail("applied", "not yet"), fail("revision-one", "not yet"), fail("replicaset", "not yet")}
	time.Sleep(200 * time.Millisecond) // the first frame of the step

	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < 100*b.N; i++ {
		rs, want := []check.Result{pass("applied"), pass("revision-one"), pass("replicaset")}, "✓"
		if i%2 == 1 {
			want = fmt.Sprintf("deleted %d", i)
			rs = []check.Result{fail("applied", want), pass("revision-one"), pass("replicaset")}
		}
		// Results come at any moment of the renderer's frame, not just after one.
		time.Sleep(time.Duration(rand.Int64N(int64(20 * time.Millisecond))))
		out.reset()
		start := time.Now()
		w.out <- rs
		waitDrawn(want)
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	cancel()
	<-ran
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(float64(len(lat)-1)*q)].Microseconds()) / 1000 }
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat)), "changes")
}
