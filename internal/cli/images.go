package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/kindlab/kindlab/internal/images"
)

func newImagesCommand(g *Globals, s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Build and list the node and lab images (no registry needed)",
	}
	cmd.AddCommand(newImagesBuildCommand(g, s), newImagesListCommand(g, s))
	return cmd
}

type imagesBuildOptions struct {
	kubernetesVersion string
	force             bool
	mirror            string
}

func newImagesBuildCommand(g *Globals, s Streams) *cobra.Command {
	o := &imagesBuildOptions{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the kind node image and the lab images from Debian packages and Go sources",
		Long: `build makes, from Debian packages and Go sources only, a kind node image with every
image the cluster needs preloaded, and the lab workload images. It needs root (for
debootstrap), Docker and Go. A run with nothing changed finishes in seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return buildImages(cmd, g, s, o)
		},
	}
	cmd.Flags().StringVar(&o.kubernetesVersion, "kubernetes-version", images.DefaultKubernetesVersion, "Kubernetes version to build")
	cmd.Flags().BoolVar(&o.force, "force", false, "rebuild every step")
	cmd.Flags().StringVar(&o.mirror, "mirror", "", "Debian mirror for debootstrap (default: this machine's apt source)")
	return cmd
}

func buildImages(cmd *cobra.Command, g *Globals, s Streams, o *imagesBuildOptions) error {
	var debug io.Writer
	if g.Verbose {
		debug = s.Err
	}
	return buildImagesTo(cmd.Context(), g, o, func(e images.Event) { printStep(s.Out, e) }, s.Out, debug)
}

// buildImagesTo builds the images, reporting each step to progress; the build's
// log goes to a file (and to debug, when not nil).
func buildImagesTo(ctx context.Context, g *Globals, o *imagesBuildOptions, progress func(images.Event), out, debug io.Writer) error {
	logPath, logFile, err := openBuildLog(g.CacheDir)
	if err != nil {
		return cannot(err)
	}
	defer logFile.Close()
	var log io.Writer = logFile
	if debug != nil {
		log = io.MultiWriter(logFile, debug)
	}
	start := time.Now()
	b := images.New(images.Options{
		KubernetesVersion: o.kubernetesVersion,
		CacheDir:          g.CacheDir,
		Log:               log,
		Progress:          progress,
		Mirror:            o.mirror,
		Force:             o.force,
	})
	if err := b.Build(ctx); err != nil {
		return fmt.Errorf("image build failed (full log: %s)\n%w", logPath, err)
	}
	fmt.Fprintf(out, "images ready in %s: node image %s\n", time.Since(start).Round(time.Second), images.NodeImage(o.kubernetesVersion))
	return nil
}

func printStep(w io.Writer, e images.Event) {
	prefix := fmt.Sprintf("[%2d/%d] %-22s", e.Index, e.Total, e.Step)
	switch e.State {
	case images.Started:
		fmt.Fprintf(w, "%s ...\n", prefix)
	case images.Done:
		fmt.Fprintf(w, "%s done in %s\n", prefix, e.Elapsed.Round(100*time.Millisecond))
	case images.Skipped:
		fmt.Fprintf(w, "%s up to date\n", prefix)
	case images.Failed:
		fmt.Fprintf(w, "%s FAILED after %s\n", prefix, e.Elapsed.Round(100*time.Millisecond))
	}
}

func openBuildLog(cacheDir string) (string, *os.File, error) {
	dir := filepath.Join(cacheDir, "logs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	p := filepath.Join(dir, "images-build-"+time.Now().Format("20060102-150405")+".log")
	f, err := os.Create(p)
	return p, f, err
}

func newImagesListCommand(g *Globals, s Streams) *cobra.Command {
	var kver string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List kindlab's images with their sizes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := images.List(cmd.Context(), kver)
			if err != nil {
				return cannot(err)
			}
			fmt.Fprintf(s.Out, "%-45s %-10s %s\n", "IMAGE", "SIZE", "CREATED")
			for _, im := range list {
				if !im.Present {
					fmt.Fprintf(s.Out, "%-45s %-10s %s\n", im.Name, "-", "missing: run kindlab images build")
					continue
				}
				fmt.Fprintf(s.Out, "%-45s %-10s %s\n", im.Name, im.Size, im.Created)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kver, "kubernetes-version", images.DefaultKubernetesVersion, "Kubernetes version of the node image")
	return cmd
}
