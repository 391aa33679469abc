package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/progress"
)

// newShellCommand opens the learner's shell wired to the lab cluster, so the book's
// kubectl commands work without installing or configuring anything.
func newShellCommand(g *Globals, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "shell",
		Short: "Open a shell whose kubectl talks to the lab cluster (KUBECONFIG set, the cluster's own kubectl first on PATH)",
		Long: `shell starts $SHELL (or bash) with KUBECONFIG pointing at the lab cluster and,
first on PATH, the kubectl that was built with the cluster's node image. Open it in a
second terminal next to the lab UI and type the book's commands there. Exit the shell
to come back.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			m := cluster.New(cluster.Options{})
			if err := m.CheckDocker(ctx); err != nil {
				return cannot(err)
			}
			if ok, err := m.Exists(g.Cluster); err != nil {
				return cannot(err)
			} else if !ok {
				return cannot(fmt.Errorf("%w: no cluster named %q; create it with `kindlab up`", cluster.ErrNotFound, g.Cluster))
			}
			state, err := progress.DefaultDir()
			if err != nil {
				return cannot(err)
			}
			dir := filepath.Join(state, g.Cluster)
			binDir := filepath.Join(dir, "bin")
			if err := os.MkdirAll(binDir, 0o755); err != nil {
				return cannot(err)
			}
			kc, err := m.Kubeconfig(g.Cluster)
			if err != nil {
				return cannot(fmt.Errorf("cluster %q does not answer: %w", g.Cluster, err))
			}
			kubeconfig := filepath.Join(dir, "kubeconfig")
			if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
				return cannot(err)
			}
			kubectl := filepath.Join(binDir, "kubectl")
			if _, err := os.Stat(kubectl); err != nil {
				// The node image carries the kubectl of its own Kubernetes version.
				node := g.Cluster + "-control-plane"
				if out, err := exec.CommandContext(ctx, "docker", "cp", node+":/usr/bin/kubectl", kubectl).CombinedOutput(); err != nil {
					return cannot(fmt.Errorf("copy kubectl out of %s: %v %s", node, err, strings.TrimSpace(string(out))))
				}
			}
			sh := os.Getenv("SHELL")
			if sh == "" {
				sh = "/bin/bash"
			}
			fmt.Fprintf(s.Out, "kindlab shell for cluster %q: kubectl is %s, KUBECONFIG=%s\n", g.Cluster, kubectl, kubeconfig)
			fmt.Fprintln(s.Out, "type `exit` to leave")
			c := exec.CommandContext(ctx, sh)
			c.Stdin, c.Stdout, c.Stderr = s.In, s.Out, s.Err
			c.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "KINDLAB_CLUSTER="+g.Cluster)
			if home, err := os.UserHomeDir(); err == nil {
				if _, err := os.Stat(filepath.Join(home, "kindlab")); err == nil {
					c.Dir = filepath.Join(home, "kindlab")
				}
			}
			err = c.Run()
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return &ExitError{Code: exit.ExitCode(), Err: fmt.Errorf("shell exited with %d", exit.ExitCode())}
			}
			return err
		},
	}
}
