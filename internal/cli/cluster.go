package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/registry"
)

func newClusterCommand(g *Globals, s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Create, delete, list and inspect kindlab clusters",
	}
	cmd.AddCommand(
		newClusterCreateCommand(g, s),
		newClusterDeleteCommand(g, s),
		newClusterListCommand(g, s),
		newClusterStatusCommand(g, s),
	)
	return cmd
}

func newManager(g *Globals, s Streams) *cluster.Manager {
	var debug io.Writer
	verbosity := 0
	if g.Verbose {
		debug, verbosity = s.Err, 1
	}
	return cluster.New(cluster.Options{Progress: progressPrinter(s.Out), Debug: debug, Verbosity: verbosity})
}

func progressPrinter(w io.Writer) func(cluster.Progress) {
	return func(p cluster.Progress) {
		switch {
		case p.Done:
			fmt.Fprintf(w, " ✓ %-45s %s\n", p.Step, p.Elapsed.Round(100*time.Millisecond))
		case p.Failed:
			fmt.Fprintf(w, " ✗ %-45s %s\n", p.Step, p.Elapsed.Round(100*time.Millisecond))
		default:
			fmt.Fprintf(w, " • %s ...\n", p.Step)
		}
	}
}

// clusterError maps cluster errors to exit codes: what the user must fix first is
// "could not" (2), anything else a failure (1).
func clusterError(err error) error {
	for _, target := range []error{cluster.ErrDockerDown, cluster.ErrImageMissing, cluster.ErrExists, cluster.ErrNotFound, cluster.ErrPortTaken, cluster.ErrStopped,
		registry.ErrImageMissing, registry.ErrPortTaken} {
		if errors.Is(err, target) {
			return cannot(err)
		}
	}
	return err
}

type clusterCreateOptions struct {
	image             string
	kubernetesVersion string
	hostPort          int
	wait              time.Duration
	retain            bool
	noLoadBalancer    bool
	// nodes is --nodes; 0 when not given (one node for a new cluster).
	nodes int
}

func newClusterCreateCommand(g *Globals, s Streams) *cobra.Command {
	o := &clusterCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a kind cluster for the labs",
		Long: `create makes a kind cluster (one node, or --nodes N: a control plane and N-1
workers) with kindlab's node image (or --image),
makes sure the lab images are in the node, maps NodePort 31000 to 127.0.0.1:31000 and
waits until every system pod is Ready. Ctrl-C or a failure deletes the half-made
cluster (unless --retain).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			start := time.Now()
			m := newManager(g, s)
			err := m.Create(cmd.Context(), cluster.CreateOptions{
				Name: g.Cluster, Image: o.image, KubernetesVersion: o.kubernetesVersion,
				HostPort: o.hostPort, Wait: o.wait, Retain: o.retain, KubeconfigPath: g.Kubeconfig,
				NoLoadBalancer: o.noLoadBalancer, Nodes: o.nodes,
			})
			if err != nil {
				return clusterError(err)
			}
			fmt.Fprintf(s.Out, "cluster %q is ready in %s; kubectl's current context is now kind-%s\n", g.Cluster, time.Since(start).Round(100*time.Millisecond), g.Cluster)
			if !o.noLoadBalancer {
				fmt.Fprintln(s.Out, "the load balancer (MetalLB) is starting: LoadBalancer Services get an address within seconds")
			}
			return nil
		},
	}
	addClusterCreateFlags(cmd.Flags(), o, true)
	cmd.Flags().BoolVar(&o.retain, "retain", false, "keep the node if creation fails (for debugging)")
	return cmd
}

// validate refuses what no cluster can be, before anything is made.
func (o *clusterCreateOptions) validate() error {
	if o.nodes < 0 || o.nodes > cluster.MaxNodes {
		return cannot(fmt.Errorf("--nodes %d: a cluster has 1 to %d nodes (one control plane, the rest workers)", o.nodes, cluster.MaxNodes))
	}
	return nil
}

// addClusterCreateFlags defines, once for every command that makes or starts
// clusters (cluster create, up and kindlab itself, class create), the flags of a
// cluster. hostPort is false for class create, which gives each learner's
// cluster a port of its own.
func addClusterCreateFlags(f *pflag.FlagSet, o *clusterCreateOptions, hostPort bool) {
	f.StringVar(&o.image, "image", "", "node image (default: kindlab's own, which kindlab images build makes)")
	f.StringVar(&o.kubernetesVersion, "kubernetes-version", images.DefaultKubernetesVersion, "Kubernetes version of kindlab's node image")
	if hostPort {
		f.IntVar(&o.hostPort, "host-port", cluster.DefaultHostPort, "host port on 127.0.0.1 for NodePort 31000 (0: none)")
	}
	f.DurationVar(&o.wait, "wait", 5*time.Minute, "how long to wait for the system pods, after a create or a restart")
	f.BoolVar(&o.noLoadBalancer, "no-load-balancer", false, "do not install MetalLB (LoadBalancer Services stay <pending>)")
	f.IntVar(&o.nodes, "nodes", 0, fmt.Sprintf("nodes of a new cluster: one control plane and N-1 workers, 1 to %d (default 1)", cluster.MaxNodes))
}

func newClusterDeleteCommand(g *Globals, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "delete",
		Short: "Delete a kindlab cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			if err := newManager(g, s).Delete(cmd.Context(), g.Cluster, g.Kubeconfig); err != nil {
				return clusterError(err)
			}
			fmt.Fprintf(s.Out, "deleted cluster %q in %s\n", g.Cluster, time.Since(start).Round(100*time.Millisecond))
			return nil
		},
	}
}

func newClusterListCommand(g *Globals, s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List kind clusters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names, err := newManager(g, s).List(cmd.Context())
			if err != nil {
				return clusterError(err)
			}
			if len(names) == 0 {
				fmt.Fprintln(s.Out, "no clusters; create one with `kindlab cluster create`")
			}
			for _, n := range names {
				fmt.Fprintln(s.Out, n)
			}
			return nil
		},
	}
}

func newClusterStatusCommand(g *Globals, s Streams) *cobra.Command {
	var output outputFormat
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether a cluster is ready for the labs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := newManager(g, s).Status(cmd.Context(), g.Cluster)
			if err != nil {
				return clusterError(err)
			}
			if output == "json" {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(st); err != nil {
					return err
				}
			} else {
				printStatus(s.Out, st)
			}
			switch {
			case !st.Exists:
				return &ExitError{Code: ExitCannot, Err: errors.New(st.Problem)}
			case !st.Ready:
				return &ExitError{Code: ExitFail, Err: errors.New(st.Problem)}
			}
			return nil
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

func printStatus(w io.Writer, st cluster.Status) {
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-13s %s\n", k+":", v)
		}
	}
	row("cluster", st.Name)
	if !st.Exists {
		row("state", "does not exist")
		return
	}
	row("node image", st.NodeImage)
	row("node", st.NodeState+"  "+st.NodeAddress)
	row("host ports", strings.Join(st.HostPorts, ", "))
	row("API server", st.APIServer)
	row("version", st.Version)
	row("nodes Ready", st.NodesReady)
	if len(st.Nodes) > 1 {
		for _, n := range st.Nodes {
			ready := "not Ready"
			switch {
			case st.NodesReady == "": // the API server was not asked
				ready = ""
			case n.Ready:
				ready = "Ready"
			}
			row("  node", fmt.Sprintf("%-24s %-13s %-8s %-15s %s", n.Name, n.Role, n.State, n.Address, ready))
		}
	}
	row("system pods", st.SystemPods)
	for _, p := range st.NotReady {
		row("  not Ready", p)
	}
	row("add-ons", st.Addons)
	for _, p := range st.AddonsStarting {
		row("  starting", p)
	}
	row("lab images", st.LabImages)
	if r := st.Registry; r != nil {
		switch {
		case r.Problem != "":
			row("registry", r.Problem)
		default:
			row("registry", fmt.Sprintf("%s %s, %s of the book's images", r.State, r.Endpoint, r.Images))
		}
	}
	for _, u := range st.URLs {
		if u.Answers {
			row("service", fmt.Sprintf("%s (%s) %s", u.Service, u.Type, u.URL))
		} else {
			row("service", fmt.Sprintf("%s (%s) %s does not answer: %s", u.Service, u.Type, u.URL, u.Problem))
		}
	}
	if st.Ready {
		row("state", "ready")
	} else {
		row("state", st.Problem)
	}
}
