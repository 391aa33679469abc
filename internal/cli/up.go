package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

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
	addClusterCreateFlags(f, &o.create, true)
	f.BoolVar(&o.noFix, "no-fix", false, "do not install or start Docker; only report what is missing")
	f.BoolVar(&o.recreate, "recreate", false, "delete the cluster first if it exists")
}

func runUp(cmd *cobra.Command, g *Globals, s Streams, o *upOptions) error {
	var debug io.Writer
	if g.Verbose {
		debug = s.Err
	}
	return up(cmd.Context(), g, o, textReport{w: s.Out, dbg: debug})
}

// upReport is where up says what it does: lines on a terminal or a pipe, or
// events for the UI's start-up screen.
type upReport interface {
	// section starts a phase (machine, images, cluster) with a title.
	section(phase, title string)
	// out takes free text: doctor's fixes, the cluster's status.
	out() io.Writer
	image(images.Event)
	cluster(cluster.Progress)
	// machine takes what the doctor found.
	machine(doctor.Report)
	// debug takes the build log and kind's log too, when not nil.
	debug() io.Writer
}

type textReport struct{ w, dbg io.Writer }

func (r textReport) section(_, title string) { fmt.Fprintf(r.w, "==> %s\n", title) }
func (r textReport) out() io.Writer          { return r.w }
func (r textReport) image(e images.Event)    { printStep(r.w, e) }
func (r textReport) cluster(p cluster.Progress) {
	progressPrinter(r.w)(p)
}
func (r textReport) debug() io.Writer { return r.dbg }

// machine prints nothing on a good machine: `kindlab doctor` shows the details.
func (r textReport) machine(doctor.Report) {}

// up makes the machine ready, builds what is missing and creates (or reuses) the
// cluster, reporting to r.
func up(ctx context.Context, g *Globals, o *upOptions, r upReport) error {
	if err := o.create.validate(); err != nil {
		return err
	}
	r.section("machine", "checking this machine")
	d := doctor.New(nil, g.CacheDir)
	report := d.Check(ctx)
	r.machine(report)
	if !report.CanCreateCluster() {
		if o.noFix || os.Geteuid() != 0 {
			report.Print(r.out())
			return cannot(errors.New("this machine cannot create a cluster yet: run `sudo kindlab doctor --fix`"))
		}
		if err := d.Fix(ctx, r.out()); err != nil {
			return cannot(err)
		}
	}
	verbosity := 0
	if r.debug() != nil {
		verbosity = 1
	}
	m := cluster.New(cluster.Options{Progress: r.cluster, Debug: r.debug(), Verbosity: verbosity})
	exists, err := m.Exists(g.Cluster)
	if err != nil {
		return clusterError(err)
	}
	if exists && o.recreate {
		r.section("cluster", fmt.Sprintf("deleting cluster %q (--recreate)", g.Cluster))
		if err := m.Delete(ctx, g.Cluster, g.Kubeconfig); err != nil {
			return clusterError(err)
		}
		exists = false
	}
	if !exists {
		if o.create.image == "" {
			o.images.kubernetesVersion = o.create.kubernetesVersion
			r.section("images", "building images (skips what is up to date)")
			if err := buildImagesTo(ctx, g, &o.images, r.image, r.out(), r.debug()); err != nil {
				return err
			}
		}
		r.section("cluster", fmt.Sprintf("creating cluster %q", g.Cluster))
		err := m.Create(ctx, cluster.CreateOptions{
			Name: g.Cluster, Image: o.create.image, KubernetesVersion: o.create.kubernetesVersion,
			HostPort: o.create.hostPort, Wait: o.create.wait, KubeconfigPath: g.Kubeconfig,
			NoLoadBalancer: o.create.noLoadBalancer, Nodes: o.create.nodes,
		})
		if err != nil {
			return clusterError(err)
		}
	} else {
		r.section("cluster", fmt.Sprintf("reusing cluster %q", g.Cluster))
		if o.create.nodes > 0 {
			if n, err := m.NodeCount(g.Cluster); err == nil && n != o.create.nodes {
				return cannot(fmt.Errorf("cluster %q has %d node(s), not %d: run `kindlab up --recreate --nodes %d` to make it again with %d (what is in it is lost), or leave out --nodes", g.Cluster, n, o.create.nodes, o.create.nodes, o.create.nodes))
			}
		}
		// After a machine restart its node is stopped: started again, with
		// everything the learner made.
		if err := m.Start(ctx, g.Cluster, o.create.wait); err != nil {
			return notBack(ctx, g.Cluster, err)
		}
	}
	st, err := m.Status(ctx, g.Cluster)
	if err != nil {
		return clusterError(err)
	}
	printStatus(r.out(), st)
	if !st.Ready {
		return &ExitError{Code: ExitFail, Err: fmt.Errorf("cluster %q is not ready: %s (recreate it with `kindlab up --recreate`)", g.Cluster, st.Problem)}
	}
	fmt.Fprintf(r.out(), "\nready: kubectl now talks to context kind-%s\n", g.Cluster)
	return nil
}

// notBack is the error of a start that failed: what kindlab could not do (Docker,
// ports) as such, else that the cluster did not come back, that what is in it is
// kept, and what to run next.
func notBack(ctx context.Context, name string, err error) error {
	if ctx.Err() == nil && clusterError(err) == err {
		err = fmt.Errorf("cluster %q did not come back: %w\nwhat you made in it is still there: run `kindlab up` again to keep waiting, or `kindlab up --recreate` to start over without it", name, err)
	}
	return clusterError(err)
}
