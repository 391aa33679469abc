package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/kindlab/kindlab/internal/images"
)

// ensureLabImages makes sure every node has the lab images. kindlab's node image
// ships them, so this usually only looks; with another node image (--image) it loads
// them from Docker like `kind load docker-image`.
func (m *Manager) ensureLabImages(ctx context.Context, name string) error {
	start := time.Now()
	const step = "Loading lab images"
	m.emit(Progress{Step: step})
	ns, err := m.provider.ListNodes(name)
	if err != nil {
		return err
	}
	for _, n := range ns {
		missing, err := missingImages(n)
		if err != nil {
			return err
		}
		if len(missing) == 0 {
			continue
		}
		m.debug(fmt.Sprintf("node %s lacks %v: loading from docker", n.String(), missing))
		if err := loadFromDocker(ctx, n, missing); err != nil {
			m.emit(Progress{Step: step, Failed: true, Elapsed: time.Since(start)})
			return fmt.Errorf("load lab images into %s (build them with `sudo kindlab images build`): %w", n.String(), err)
		}
	}
	m.emit(Progress{Step: step, Done: true, Elapsed: time.Since(start)})
	return nil
}

func loadFromDocker(ctx context.Context, n nodes.Node, imgs []string) error {
	save := exec.CommandContext(ctx, "docker", append([]string{"save"}, imgs...)...)
	out, err := save.StdoutPipe()
	if err != nil {
		return err
	}
	if err := save.Start(); err != nil {
		return err
	}
	loadErr := nodeutils.LoadImageArchive(n, out)
	if err := save.Wait(); err != nil {
		return fmt.Errorf("docker save %v: %w", imgs, err)
	}
	return loadErr
}

// missingImages lists the lab images a node lacks, in one call to containerd.
func missingImages(n nodes.Node) ([]string, error) {
	var out bytes.Buffer
	if err := n.Command("ctr", "--namespace=k8s.io", "images", "list", "-q").SetStdout(&out).Run(); err != nil {
		return nil, fmt.Errorf("list images in node %s: %w", n.String(), err)
	}
	have := map[string]bool{}
	for _, ref := range strings.Fields(out.String()) {
		have[ref] = true
	}
	var missing []string
	for _, img := range images.LabImages {
		if !have[images.ContainerdName(img)] {
			missing = append(missing, img)
		}
	}
	return missing, nil
}
