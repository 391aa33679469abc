package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
	"github.com/kindlab/kindlab/internal/tui"
)

type tuiOptions struct {
	// up, when set, brings the cluster up on the UI's start-up screen first.
	up *upOptions
}

// newTUICommand opens the lab UI on an existing cluster; plain `kindlab` runs
// `up` first and then the same UI.
func newTUICommand(g *Globals, s Streams) *cobra.Command {
	o := &tuiOptions{}
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Work through the labs in a terminal UI whose checks update as you work",
		Long: `tui shows the chapter's labs and your progress; open a lab to read its steps
while its checks follow what you do with kubectl in another terminal. When
output is not a terminal it prints the lab list instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTUI(cmd, g, s, o) },
	}
	return cmd
}

func runTUI(cmd *cobra.Command, g *Globals, s Streams, o *tuiOptions) error {
	ctx := cmd.Context()
	set, err := loadLabs()
	if err != nil {
		return err
	}
	ps, err := g.progress()
	if err != nil {
		return err
	}
	lang := g.lang()
	if !tui.IsTerminal(s.Out) {
		// A list needs no cluster: do not ask for one.
		pf, err := ps.Load()
		if err != nil {
			return cannot(err)
		}
		if w := ps.TakeWarning(); w != "" {
			fmt.Fprintln(s.Err, "warning:", w)
		}
		return tui.PrintLabs(s.Out, set, pf, lang)
	}
	opts := tui.Options{Labs: set, Progress: ps, Lang: lang, Namespace: g.Namespace, In: s.In, Out: s.Out}
	// The UI's session is closed when it is replaced (the cluster was started
	// again, recreated, or recreated elsewhere: the old one's cluster is gone or
	// its credentials are) and when the UI ends. Start-ups and reconnects run
	// beside the UI: guarded.
	var (
		mu      sync.Mutex
		current *engine.Session
	)
	keep := func(sess *engine.Session) {
		mu.Lock()
		defer mu.Unlock()
		if current != nil {
			current.Close()
		}
		current = sess
	}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		if current != nil {
			current.Close()
		}
	}()
	// A cluster recreated in another terminal (`kindlab up --recreate`) has a new
	// address and credentials: the UI takes a new session once one answers.
	opts.Reconnect = func(ctx context.Context) (tui.Engine, error) {
		sess, err := g.openSession(ctx, s, set)
		if err != nil {
			return nil, err
		}
		if err := sess.Ping(ctx); err != nil {
			sess.Close()
			return nil, err
		}
		keep(sess)
		return sess, nil
	}
	if o.up != nil {
		opts.Startup = func(ctx context.Context, recreate bool, report func(tui.StartupEvent)) (tui.Engine, error) {
			uo := *o.up
			uo.recreate = uo.recreate || recreate
			if err := up(ctx, g, &uo, newUIReport(report, lang)); err != nil {
				return nil, err
			}
			step := "watching the cluster for the labs"
			report(tui.StartupEvent{Phase: "labs", Title: "Labs", Step: step})
			began := time.Now()
			sess, err := g.openSession(ctx, s, set)
			if err != nil {
				return nil, err
			}
			report(tui.StartupEvent{Phase: "labs", Step: step, State: tui.Finished, Elapsed: time.Since(began)})
			keep(sess)
			return sess, nil
		}
		opts.Recreate = o.up.recreate
	} else {
		sess, err := g.openSession(ctx, s, set)
		if errors.Is(err, cluster.ErrStopped) {
			// After a machine restart: started as `kindlab up` would, then again.
			fmt.Fprintf(s.Err, "cluster %q is stopped: starting it; everything in it is kept\n", g.Cluster)
			m := cluster.New(cluster.Options{Progress: progressPrinter(s.Err)})
			if err := m.Start(ctx, g.Cluster, 5*time.Minute); err != nil {
				return notBack(ctx, g.Cluster, err)
			}
			sess, err = g.openSession(ctx, s, set)
		}
		if err != nil {
			return err
		}
		keep(sess)
		opts.Engine = sess
	}
	restore, err := logToFile(g)
	if err != nil {
		return cannot(err)
	}
	defer restore()
	if home, err := os.UserHomeDir(); err == nil {
		// The same place `kindlab start` uses, so both find the learner's files.
		opts.WorkDir = func(l *lab.Lab) string { return filepath.Join(home, "kindlab", l.ID) }
		opts.WriteFiles = func(l *lab.Lab) error { return writeMissingManifests(set, l, opts.WorkDir(l)) }
	}
	return tui.Run(ctx, opts)
}

// writeMissingManifests writes the lab's manifests into dir, keeping any the
// learner already has: they may have edited them.
func writeMissingManifests(set *lab.Set, l *lab.Lab, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range l.Files {
		path := filepath.Join(dir, f)
		info, err := os.Lstat(path)
		if err == nil && info.Mode()&fs.ModeSymlink != 0 {
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("%s is a symbolic link to %s, which does not exist: kindlab writes no file through it; remove it and run again", path, linkTarget(path))
			}
		}
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		data, err := set.Manifest(l.ID, f)
		if err != nil {
			return err
		}
		// O_EXCL: never through a link or over a file made a moment ago.
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		_, err = out.Write(data)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

func linkTarget(path string) string {
	t, err := os.Readlink(path)
	if err != nil {
		return "?"
	}
	return t
}

// logToFile sends diagnostics (slog, and client-go's klog) to a file in the state
// directory while the UI owns the terminal, and returns how to undo it.
func logToFile(g *Globals) (func(), error) {
	dir, err := progress.DefaultDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "tui.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	level := slog.LevelWarn
	if g.Verbose {
		level = slog.LevelDebug
	}
	prev := slog.Default()
	logger := slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)
	klog.SetSlogLogger(logger)
	return func() {
		slog.SetDefault(prev)
		quietKlog(g)
		f.Close()
	}, nil
}
