package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kindlab/kindlab/internal/class"
	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/kube"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
)

func newClassCommand(g *Globals, s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "class",
		Short: "Run the labs for a class: a cluster or a namespace per learner, progress in one table",
		Long: `class is for an instructor. A class is either one kind cluster per learner
(class create --learners N) or one shared cluster with a namespace per learner
(class create --learners N --namespaces), each learner with a kubeconfig of their
own; in namespace mode RBAC limits a learner to their namespace.

The class is kept in the state directory (class/class.json, beside the learners'
kubeconfigs), so status, reset and delete know every learner.`,
	}
	cmd.AddCommand(newClassCreateCommand(g, s), newClassStatusCommand(g, s), newClassResetCommand(g, s), newClassDeleteCommand(g, s),
		newClassKubeconfigCommand(g, s))
	return cmd
}

func loadClass() (*class.Class, string, error) {
	dir, err := stateDir()
	if err != nil {
		return nil, "", err
	}
	c, err := class.Load(dir)
	if err != nil {
		return nil, "", cannot(err)
	}
	return c, dir, nil
}

type classCreateOptions struct {
	learners   int
	prefix     string
	namespaces bool
	adopt      bool
	tokenTTL   time.Duration
	create     clusterCreateOptions
}

func newClassCreateCommand(g *Globals, s Streams) *cobra.Command {
	o := &classCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create --learners N [--namespaces]",
		Short: "Create a cluster (or, with --namespaces, a namespace on --cluster) for each learner",
		Long: `create makes N learners named PREFIX-01 ... PREFIX-NN and prints where each
one's kubeconfig is. Without --namespaces each learner gets a kind cluster of
their own (NodePort 31000 mapped to a free port on 127.0.0.1, shown in the table).
With --namespaces the learners share the cluster --cluster (or --kubeconfig): each
gets a namespace, a service account with edit rights there only, and a
kubeconfig whose default namespace is theirs.

Learners already in the class are kept; running create again after a failure
completes the class. A bigger N adds learners.`,
		Example: `  kindlab class create --learners 2
  kindlab class create --learners 20 --namespaces --cluster kindlab`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runClassCreate(cmd, g, s, o) },
	}
	f := cmd.Flags()
	f.IntVar(&o.learners, "learners", 0, "number of learners")
	f.StringVar(&o.prefix, "prefix", "student", "learner names are PREFIX-01, PREFIX-02, ...")
	f.BoolVar(&o.namespaces, "namespaces", false, "one namespace per learner on one shared cluster instead of a cluster each")
	f.BoolVar(&o.adopt, "adopt", false, "with --namespaces: give a learner a namespace that exists and kindlab did not make (class delete then deletes it)")
	f.DurationVar(&o.tokenTTL, "token-ttl", class.DefaultTokenTTL, "with --namespaces: how long each learner's kubeconfig works (class kubeconfig issues a new one)")
	addClusterCreateFlags(f, &o.create, false)
	return cmd
}

func runClassCreate(cmd *cobra.Command, g *Globals, s Streams, o *classCreateOptions) error {
	ctx := cmd.Context()
	if o.learners < 1 || o.learners > 99 {
		return cannot(errors.New("--learners must be between 1 and 99"))
	}
	if err := kube.ValidateName(o.prefix); err != nil {
		return cannot(fmt.Errorf("--prefix: %w", err))
	}
	if o.tokenTTL < 10*time.Minute {
		return cannot(errors.New("--token-ttl must be at least 10m (the API server's shortest token)"))
	}
	if err := o.create.validate(); err != nil {
		return err
	}
	if o.namespaces && o.create.nodes > 0 {
		return cannot(fmt.Errorf("--nodes sizes each learner's own cluster; with --namespaces the learners share --cluster: make it with `kindlab up --cluster %s --nodes %d`", g.Cluster, o.create.nodes))
	}
	dir, err := stateDir()
	if err != nil {
		return err
	}
	mode := class.ModeClusters
	if o.namespaces {
		mode = class.ModeNamespaces
	}
	c, err := class.Load(dir)
	switch {
	case errors.Is(err, class.ErrNoClass):
		c = class.New(dir, mode, "")
		if o.namespaces {
			c.Cluster = g.Cluster
			c.AdminKubeconfig, c.AdminContext = g.Kubeconfig, g.Context
		}
	case err != nil:
		return cannot(err)
	case c.Mode != mode:
		return cannot(fmt.Errorf("the class in %s has one %s per learner; delete it first (kindlab class delete) to change", c.Path(), strings.TrimSuffix(c.Mode, "s")))
	}
	start := time.Now()
	if o.namespaces {
		err = createNamespaceLearners(ctx, g, s, c, dir, o)
	} else {
		err = createClusterLearners(ctx, g, s, c, dir, o)
	}
	if len(c.Learners) > 0 {
		printLearners(s.Out, c)
	}
	if err != nil {
		return fmt.Errorf("%w\n(the learners above are kept; run the same command again to complete the class)", err)
	}
	fmt.Fprintf(s.Out, "class of %d learner(s) ready in %s; `kindlab class status` shows their progress\n", len(c.Learners), time.Since(start).Round(100*time.Millisecond))
	return nil
}

func createClusterLearners(ctx context.Context, g *Globals, s Streams, c *class.Class, dir string, o *classCreateOptions) error {
	m := newManager(g, s)
	if err := m.CheckDocker(ctx); err != nil {
		return cannot(err)
	}
	for i := 1; i <= o.learners; i++ {
		name := class.LearnerName(o.prefix, i)
		if l, err := c.Get(name); err == nil {
			if ok, _ := m.Exists(l.Cluster); ok {
				// Kept, and started again if the machine restarted.
				if err := m.Start(ctx, l.Cluster, o.create.wait); err != nil {
					return clusterError(fmt.Errorf("learner %s: %w", name, err))
				}
				continue
			}
		}
		port, err := freeHostPort(c)
		if err != nil {
			return err
		}
		kc, err := class.KubeconfigPath(dir, name)
		if err != nil {
			return cannot(err)
		}
		fmt.Fprintf(s.Out, "learner %s: cluster %s, NodePort 31000 on 127.0.0.1:%d\n", name, name, port)
		err = m.Create(ctx, cluster.CreateOptions{
			Name: name, Image: o.create.image, KubernetesVersion: o.create.kubernetesVersion,
			HostPort: port, Wait: o.create.wait, KubeconfigPath: kc, NoLoadBalancer: o.create.noLoadBalancer,
			Nodes: o.create.nodes,
		})
		if err != nil {
			os.Remove(kc)
			return clusterError(fmt.Errorf("learner %s: %w", name, err))
		}
		c.Put(class.Learner{Name: name, Cluster: name, Namespace: "default", Kubeconfig: kc, HostPort: port})
		if err := c.Save(); err != nil {
			return err
		}
	}
	return nil
}

// freeHostPort is the first port from 31001 that is free on 127.0.0.1 and not
// given to another learner (whose cluster may be stopped).
func freeHostPort(c *class.Class) (int, error) {
	used := map[int]bool{cluster.DefaultHostPort: true}
	for _, l := range c.Learners {
		used[l.HostPort] = true
	}
	for p := cluster.DefaultHostPort + 1; p < cluster.DefaultHostPort+1000; p++ {
		if used[p] {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		ln.Close()
		return p, nil
	}
	return 0, cannot(errors.New("no free port on 127.0.0.1 from 31001 to 31999"))
}

// classAdmin is the instructor's access to the shared cluster of a namespace class.
func (g *Globals) classAdmin(ctx context.Context, c *class.Class) (*rest.Config, error) {
	ag := *g
	ag.Cluster, ag.Kubeconfig, ag.Context = c.Cluster, c.AdminKubeconfig, c.AdminContext
	return ag.restConfig(ctx, cluster.New(cluster.Options{}))
}

func createNamespaceLearners(ctx context.Context, g *Globals, s Streams, c *class.Class, dir string, o *classCreateOptions) error {
	if c.AdminKubeconfig == "" && c.AdminContext == "" {
		// kindlab's own cluster: started again if the machine restarted, and its
		// nodes pull the book's images through the local registry (Start sees to it).
		m := newManager(g, s)
		if err := m.CheckDocker(ctx); err != nil {
			return cannot(err)
		}
		if ok, err := m.Exists(c.Cluster); err == nil && ok {
			if err := m.Start(ctx, c.Cluster, o.create.wait); err != nil {
				return clusterError(err)
			}
		}
	}
	admin, err := g.classAdmin(ctx, c)
	if err != nil {
		return err
	}
	set, err := loadLabs()
	if err != nil {
		return err
	}
	// The helper pod exists before any learner needs it: they may use it, not make it.
	sess, err := engine.Open(ctx, set, engine.Target{Config: admin}, g.lang())
	if err != nil {
		return cannot(fmt.Errorf("cluster %s: %w", c.Cluster, err))
	}
	defer sess.Close()
	if err := sess.Ping(ctx); err != nil {
		return cannot(fmt.Errorf("cluster %s does not answer: %w", c.Cluster, err))
	}
	if err := sess.EnsureProbe(ctx); err != nil {
		return err
	}
	podCIDRs, err := kube.PodCIDRs(ctx, sess.Client())
	if err != nil {
		return cannot(fmt.Errorf("cluster %s: list nodes: %w", c.Cluster, err))
	}
	for i := 1; i <= o.learners; i++ {
		name := class.LearnerName(o.prefix, i)
		grant, err := class.ProvisionNamespace(ctx, sess.Client(), admin, class.Provision{
			Namespace: name, TokenTTL: o.tokenTTL, Adopt: o.adopt, HelperNamespace: engine.ProbeNamespace, PodCIDRs: podCIDRs,
		})
		if errors.Is(err, class.ErrNotOurs) {
			return cannot(err)
		}
		if err != nil {
			return err
		}
		kc, err := class.WriteKubeconfig(dir, name, grant.Kubeconfig)
		if err != nil {
			return cannot(err)
		}
		c.Put(class.Learner{Name: name, Cluster: c.Cluster, Namespace: name, Kubeconfig: kc, TokenExpires: grant.Expires})
		if err := c.Save(); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.Out, "learners' namespaces: Pod Security %q enforced, a ResourceQuota (%d pods) and LimitRange each, kubeconfig tokens valid until %s\n",
		class.PodSecurityLevel, class.FairShare.Pods, time.Now().Add(o.tokenTTL).Format("2006-01-02 15:04 MST"))
	isolation, detail := probeIsolation(ctx, sess)
	fmt.Fprintf(s.Out, "network isolation: %s — %s\n", isolation, detail)
	return nil
}

func printLearners(w io.Writer, c *class.Class) {
	fmt.Fprintf(w, "%-12s %-14s %-12s %-6s %-17s %s\n", "LEARNER", "CLUSTER", "NAMESPACE", "PORT", "TOKEN UNTIL", "KUBECONFIG")
	for _, l := range c.Learners {
		port := "-"
		if l.HostPort != 0 {
			port = strconv.Itoa(l.HostPort)
		}
		until := "-"
		if !l.TokenExpires.IsZero() {
			until = l.TokenExpires.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%-12s %-14s %-12s %-6s %-17s %s\n", l.Name, l.Cluster, l.Namespace, port, until, l.Kubeconfig)
	}
}

// learnerSession opens the lab engine on a learner's namespace with the
// instructor's rights (their own kubeconfig for a cluster of their own).
func learnerSession(ctx context.Context, g *Globals, c *class.Class, l *class.Learner, set *lab.Set) (*engine.Session, error) {
	var cfg *rest.Config
	var err error
	t := engine.Target{Namespace: l.Namespace}
	if c.Mode == class.ModeNamespaces {
		cfg, err = g.classAdmin(ctx, c)
	} else {
		m := cluster.New(cluster.Options{})
		lg := *g
		lg.Cluster, lg.Kubeconfig, lg.Context = l.Cluster, "", ""
		cfg, err = lg.restConfig(ctx, m)
		t.HostPort = l.HostPort
		name := l.Cluster
		t.NodeAddress = func(ctx context.Context) (string, error) { return m.NodeAddress(ctx, name) }
	}
	if err != nil {
		return nil, err
	}
	t.Config = cfg
	sess, err := engine.Open(ctx, set, t, g.lang())
	if err != nil {
		return nil, cannot(fmt.Errorf("learner %s: %w", l.Name, err))
	}
	if err := sess.Ping(ctx); err != nil {
		sess.Close()
		return nil, cannot(fmt.Errorf("learner %s: the API server does not answer: %w", l.Name, err))
	}
	return sess, nil
}

// learnerProgress is the progress store kindlab uses on this machine for the learner.
func learnerProgress(dir string, l *class.Learner) *progress.Store {
	return progress.Open(dir, progressName(l.Cluster, l.Namespace))
}

// selectLearners is the --learner subset of the class, or all of it, as copies:
// deleting learners changes the class's list under them.
func selectLearners(c *class.Class, names []string) ([]class.Learner, error) {
	if len(names) == 0 {
		return append([]class.Learner(nil), c.Learners...), nil
	}
	var out []class.Learner
	for _, n := range names {
		l, err := c.Get(n)
		if err != nil {
			return nil, cannot(err)
		}
		out = append(out, *l)
	}
	return out, nil
}

// classTargets loads the class and the learners a command acts on.
func classTargets(names []string) (*class.Class, string, []class.Learner, error) {
	c, dir, err := loadClass()
	if err != nil {
		return nil, "", nil, err
	}
	targets, err := selectLearners(c, names)
	return c, dir, targets, err
}

func newClassResetCommand(g *Globals, s Streams) *cobra.Command {
	var learners []string
	cmd := &cobra.Command{
		Use:   "reset [--learner NAME]...",
		Short: "Remove what the labs made for every learner (or the ones named) and forget their progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, dir, targets, err := classTargets(learners)
			if err != nil {
				return err
			}
			set, err := loadLabs()
			if err != nil {
				return err
			}
			var failed []string
			for _, l := range targets {
				start := time.Now()
				if err := resetLearner(ctx, g, c, &l, set, dir); err != nil {
					fmt.Fprintf(s.Err, "learner %s: %v\n", l.Name, err)
					failed = append(failed, l.Name)
					continue
				}
				fmt.Fprintf(s.Out, "learner %s reset in %s\n", l.Name, time.Since(start).Round(100*time.Millisecond))
			}
			if len(failed) > 0 {
				return fmt.Errorf("could not reset %s", strings.Join(failed, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&learners, "learner", nil, "reset only this learner (repeatable)")
	return cmd
}

func resetLearner(ctx context.Context, g *Globals, c *class.Class, l *class.Learner, set *lab.Set, dir string) error {
	sess, err := learnerSession(ctx, g, c, l, set)
	if err != nil {
		return err
	}
	defer sess.Close()
	for _, lb := range set.Labs {
		if err := sess.Reset(ctx, lb); err != nil {
			return fmt.Errorf("reset %s: %w", lb.ID, err)
		}
	}
	return clearLearnerProgress(dir, l)
}

// clearLearnerProgress forgets a learner's progress: the instructor's view of it and
// what the learner's own kindlab keeps when run on this machine with their kubeconfig.
func clearLearnerProgress(dir string, l *class.Learner) error {
	err := learnerProgress(dir, l).Clear("")
	if l.Namespace != "" && l.Namespace != "default" {
		err = errors.Join(err, progress.Open(dir, progressName(kubeconfigProgressName(class.ContextName(l.Namespace)), l.Namespace)).Clear(""))
	} else if l.Kubeconfig != "" {
		// A learner cluster: kind names the kubeconfig's context kind-NAME.
		err = errors.Join(err, progress.Open(dir, progressName(kubeconfigProgressName("kind-"+l.Cluster), l.Namespace)).Clear(""))
	}
	return err
}

func newClassDeleteCommand(g *Globals, s Streams) *cobra.Command {
	var learners []string
	cmd := &cobra.Command{
		Use:   "delete [--learner NAME]...",
		Short: "Delete the learners' clusters or namespaces and kubeconfigs (all, or the ones named)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, dir, targets, err := classTargets(learners)
			if err != nil {
				return err
			}
			var admin kubernetes.Interface
			if c.Mode == class.ModeNamespaces {
				cfg, err := g.classAdmin(ctx, c)
				if err != nil {
					return err
				}
				if admin, err = kubernetes.NewForConfig(cfg); err != nil {
					return cannot(err)
				}
			}
			m := newManager(g, s)
			for _, l := range targets {
				name := l.Name
				if c.Mode == class.ModeNamespaces {
					err = class.DeprovisionNamespace(ctx, admin, l.Namespace, engine.ProbeNamespace)
					if errors.Is(err, class.ErrNotOurs) {
						err = cannot(err)
					}
				} else {
					err = m.Delete(ctx, l.Cluster, l.Kubeconfig)
					if errors.Is(err, cluster.ErrNotFound) {
						// Deleted by hand already: the learner goes all the same.
						err = nil
					}
				}
				if err != nil {
					return fmt.Errorf("learner %s: %w", name, err)
				}
				os.Remove(l.Kubeconfig)
				clearLearnerProgress(dir, &l)
				c.Remove(name)
				if err := c.Save(); err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "deleted learner %s\n", name)
			}
			if len(c.Learners) == 0 {
				if admin != nil {
					if err := class.RemoveShared(ctx, admin, engine.ProbeNamespace); err != nil {
						return fmt.Errorf("remove the learners' shared role: %w", err)
					}
				}
				return c.Delete()
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&learners, "learner", nil, "delete only this learner (repeatable)")
	return cmd
}
