package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/doctor"
	"github.com/kindlab/kindlab/internal/images"
)

type upOptions struct {
	images   imagesBuildOptions
	create   clusterCreateOptions
	noFix    bool
	recreate bool
}

// newUpCommand is the main job from nothing: a working Docker, the images, a Ready
// cluster (reused when it exists), then its status.
func newUpCommand(g *Globals, s Streams) *cobra.Command {
	o := &upOptions{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Set up everything: Docker, images, and a Ready cluster (reused if it exists)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runUp(cmd, g, s, o) },
	}
	addUpFlags(cmd, o)
	return cmd
}

func addUpFlags(cmd *cobra.Command, o *upOptions) {
	f := cmd.Flags()
	f.StringVar(&o.images.kubernetesVersion, "kubernetes-version", images.DefaultKubernetesVersion, "Kubernetes version")
	f.StringVar(&o.create.image, "image", "", "node image (default: kindlab's own, built if missing)")
	f.IntVar(&o.create.hostPort, "host-port", cluster.DefaultHostPort, "host port on 127.0.0.1 for NodePort 31000 (0: none)")
	f.DurationVar(&o.create.wait, "wait", 5*time.Minute, "how long to wait for the system pods")
	f.BoolVar(&o.noFix, "no-fix", false, "do not install or start Docker; only report what is missing")
	f.BoolVar(&o.recreate, "recreate", false, "delete the cluster first if it exists")
	f.BoolVar(&o.create.noLoadBalancer, "no-load-balancer", false, "do not install MetalLB (LoadBalancer Services stay <pending>)")
}

func runUp(cmd *cobra.Command, g *Globals, s Streams, o *upOptions) error {
	ctx := cmd.Context()
	fmt.Fprintln(s.Out, "==> checking this machine")
	d := doctor.New(nil, g.CacheDir)
	report := d.Check(ctx)
	if !report.CanCreateCluster() {
		if o.noFix || os.Geteuid() != 0 {
			report.Print(s.Out)
			return cannot(errors.New("this machine cannot create a cluster yet: run `sudo kindlab doctor --fix`"))
		}
		if err := d.Fix(ctx, s.Out); err != nil {
			return cannot(err)
		}
	}
	m := newManager(g, s)
	exists, err := m.Exists(g.Cluster)
	if err != nil {
		return clusterError(err)
	}
	if exists && o.recreate {
		fmt.Fprintf(s.Out, "==> deleting cluster %q (--recreate)\n", g.Cluster)
		if err := m.Delete(ctx, g.Cluster, g.Kubeconfig); err != nil {
			return clusterError(err)
		}
		exists = false
	}
	if !exists {
		if o.create.image == "" {
			fmt.Fprintln(s.Out, "==> building images (skips what is up to date)")
			if err := buildImages(cmd, g, s, &o.images); err != nil {
				return err
			}
		}
		fmt.Fprintf(s.Out, "==> creating cluster %q\n", g.Cluster)
		o.create.kubernetesVersion = o.images.kubernetesVersion
		err := m.Create(ctx, cluster.CreateOptions{
			Name: g.Cluster, Image: o.create.image, KubernetesVersion: o.create.kubernetesVersion,
			HostPort: o.create.hostPort, Wait: o.create.wait, KubeconfigPath: g.Kubeconfig,
			NoLoadBalancer: o.create.noLoadBalancer,
		})
		if err != nil {
			return clusterError(err)
		}
	} else {
		fmt.Fprintf(s.Out, "==> reusing cluster %q\n", g.Cluster)
	}
	st, err := m.Status(ctx, g.Cluster)
	if err != nil {
		return clusterError(err)
	}
	printStatus(s.Out, st)
	if !st.Ready {
		return &ExitError{Code: ExitFail, Err: fmt.Errorf("cluster %q is not ready: %s (recreate it with `kindlab up --recreate`)", g.Cluster, st.Problem)}
	}
	fmt.Fprintf(s.Out, "\nready: kubectl now talks to context kind-%s\n", g.Cluster)
	return nil
}
