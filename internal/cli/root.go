// Package cli holds kindlab's cobra commands: one file per command, each with an
// options struct, and the one place where errors become exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/kindlab/kindlab/internal/kube"
	"github.com/kindlab/kindlab/internal/progress"
	"github.com/kindlab/kindlab/internal/tui"
)

// Exit codes, documented in the README.
const (
	ExitOK = 0
	// ExitFail: the command ran and something failed (a check, a build step).
	ExitFail = 1
	// ExitCannot: the command could not do its job (bad input, no cluster, no Docker).
	ExitCannot = 2
)

// outputFormat is --output/-o of every command that has one: text (empty) or
// json. Anything else is refused as the flag is parsed, like an unknown flag.
type outputFormat string

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "format" }
func (o *outputFormat) Set(s string) error {
	if s != "" && s != "json" {
		return fmt.Errorf("%q: the only format is json", s)
	}
	*o = outputFormat(s)
	return nil
}

func addOutputFlag(cmd *cobra.Command, o *outputFormat) {
	cmd.Flags().VarP(o, "output", "o", "output format: json (default: text)")
}

// ExitError carries an exit code with an error.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// cannot marks err as "could not do the job" (exit 2).
func cannot(err error) error { return &ExitError{Code: ExitCannot, Err: err} }

// Streams are a command's input and outputs.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Globals are the flags every command shares.
type Globals struct {
	Cluster    string
	Kubeconfig string
	Context    string
	Namespace  string
	Lang       string
	Verbose    bool
	CacheDir   string
	// stores are the progress files this run opened: what they have to say (a
	// corrupt file set aside) is printed when the command ends, even if it failed.
	stores []*progress.Store
}

// Main runs kindlab and returns its exit code. Ctrl-C cancels the context: every
// command cleans up what it started and returns.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first Ctrl-C cleans up; a second one stops at once.
	go func() {
		<-ctx.Done()
		again := make(chan os.Signal, 1)
		signal.Notify(again, os.Interrupt, syscall.SIGTERM)
		<-again
		fmt.Fprintln(errOut, "kindlab: interrupted again: stopping without cleaning up (`kindlab cluster list` shows what is left; `kindlab cluster delete --cluster NAME` removes it)")
		os.Exit(130)
	}()
	streams := Streams{In: in, Out: out, Err: errOut}
	root, g := newRootCommand(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	for _, ps := range g.stores {
		if w := ps.TakeWarning(); w != "" {
			fmt.Fprintln(errOut, "warning:", w)
		}
	}
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(errOut, "kindlab: interrupted; nothing was left half-made")
		return 130
	}
	fmt.Fprintf(errOut, "kindlab: %v\n", err)
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFail
}

// quietKlog keeps client-go's own logging (klog) off the learner's terminal unless
// -v: what goes wrong reaches kindlab as errors, which it says in its own words,
// and klog would add noise such as "Copying stdout failed" when a check's exec is
// cancelled, or an informer's retries while a cluster restarts.
func quietKlog(g *Globals) {
	if g.Verbose {
		klog.SetSlogLogger(slog.Default())
		return
	}
	klog.SetSlogLogger(slog.New(slog.DiscardHandler))
}

// NewRootCommand builds the command tree.
func NewRootCommand(s Streams) *cobra.Command {
	root, _ := newRootCommand(s)
	return root
}

func newRootCommand(s Streams) (*cobra.Command, *Globals) {
	g := &Globals{}
	root := &cobra.Command{
		Use:           "kindlab",
		Short:         "Hands-on Kubernetes labs for chapter 6 on a real local kind cluster",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelWarn
			if g.Verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(s.Err, &slog.HandlerOptions{Level: level})))
			quietKlog(g)
			// The cluster's name names files under the state directory: never a path.
			if err := kube.ValidateName(g.Cluster); err != nil {
				return cannot(fmt.Errorf("--cluster %w", err))
			}
			// A learner's kubeconfig (from `kindlab class create --namespaces`) names
			// their namespace: it is the default unless --namespace says otherwise.
			if g.Kubeconfig != "" && !cmd.Flags().Changed("namespace") {
				if data, err := os.ReadFile(g.Kubeconfig); err == nil {
					if ns, err := kube.KubeconfigNamespace(data, g.Context); err == nil && ns != "" {
						g.Namespace = ns
					}
				}
			}
			if g.CacheDir == "" {
				dir, err := defaultCacheDir()
				if err != nil {
					return cannot(err)
				}
				g.CacheDir = dir
			}
			return nil
		},
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	pf := root.PersistentFlags()
	pf.StringVar(&g.Cluster, "cluster", "kindlab", "name of the kind cluster")
	pf.StringVar(&g.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: the cluster's own)")
	pf.StringVar(&g.Context, "context", "", "kubeconfig context")
	pf.StringVarP(&g.Namespace, "namespace", "n", "default", "namespace of the labs' objects")
	pf.StringVar(&g.Lang, "lang", "", "language of instructions and messages: ko or en (default: from the locale)")
	pf.BoolVarP(&g.Verbose, "verbose", "v", false, "show diagnostics and the output of every command")
	pf.StringVar(&g.CacheDir, "cache-dir", "", "where image builds keep their work (default: the user cache dir)")

	root.AddCommand(
		newDoctorCommand(g, s),
		newImagesCommand(g, s),
		newClusterCommand(g, s),
		newUpCommand(g, s),
		newShellCommand(g, s),
		newLabsCommand(g, s),
		newStartCommand(g, s),
		newCheckCommand(g, s),
		newHintCommand(g, s),
		newSolveCommand(g, s),
		newAnswerCommand(g, s),
		newResetCommand(g, s),
		newGradeCommand(g, s),
		newClassCommand(g, s),
		newTUICommand(g, s),
		newVersionCommand(s),
	)
	// Plain `kindlab` is the main job: everything `up` does, then the lab UI (or,
	// when output is not a terminal, the lab list).
	upOpts := &upOptions{}
	addUpFlags(root, upOpts)
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if tui.IsTerminal(s.Out) && g.Kubeconfig == "" {
			// The UI's start-up screen does what `up` does, with its progress.
			return runTUI(cmd, g, s, &tuiOptions{up: upOpts})
		}
		if err := runUp(cmd, g, s, upOpts); err != nil {
			return err
		}
		return runTUI(cmd, g, s, &tuiOptions{})
	}
	markUsageErrors(root)
	return root, g
}

func defaultCacheDir() (string, error) {
	if d := os.Getenv("KINDLAB_CACHE_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set KINDLAB_CACHE_DIR): %w", err)
	}
	return filepath.Join(base, "kindlab"), nil
}

// markUsageErrors makes bad flags and arguments exit 2 ("could not do the job"),
// like every other input error, in every command of the tree.
func markUsageErrors(c *cobra.Command) {
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cannot(err) })
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return cannot(err)
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		markUsageErrors(sub)
	}
}
