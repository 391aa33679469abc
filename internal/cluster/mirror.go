package cluster

import (
	"context"
	"fmt"
	"strings"

	"github.com/kindlab/kindlab/internal/images"
)

// usesRegistry reports whether the cluster's node image pulls through the local
// registry.
func (m *Manager) usesRegistry(ctx context.Context, name string) bool {
	out, err := m.run.Output(ctx, "docker", "inspect", "-f", `{{index .Config.Labels "`+images.NodeFeaturesLabel+`"}}`, name+"-control-plane")
	return err == nil && strings.Contains(","+strings.TrimSpace(out)+",", ","+images.FeatureRegistryMirror+",")
}

// EnsureRegistry repairs the local registry of an existing cluster whose nodes
// pull through it: started if stopped or removed by hand (its volume keeps the
// images), on the kind network, holding every image.
func (m *Manager) EnsureRegistry(ctx context.Context, name string) error {
	if !m.usesRegistry(ctx, name) {
		return nil
	}
	return m.step(ctx, "Checking the local registry", func() error { return m.registry.Ensure(ctx) })
}

// registryResult is how filling the local registry went, and whether containers
// on this machine reach the upstream registry.
type registryResult struct {
	used     bool
	upstream bool
	err      error
}

// fillRegistry, when used, asks whether containers reach Docker Hub and fills the
// (started) local registry, while kind creates the cluster. (Filling it only once
// kind had finished measured no faster: 29.1 s vs 26.3 s, 4 alternating creates
// each, within this machine's noise.)
func (m *Manager) fillRegistry(ctx context.Context, used bool) <-chan registryResult {
	done := make(chan registryResult, 1)
	if !used {
		done <- registryResult{}
		return done
	}
	go func() {
		upstream := make(chan bool, 1)
		go func() { upstream <- m.registry.UpstreamReachable(ctx) }()
		err := m.step(ctx, "Filling the local registry with the book's images", func() error { return m.registry.Fill(ctx) })
		done <- registryResult{used: true, upstream: <-upstream, err: err}
	}()
	return done
}

// mirrorNodes finishes the registry's part once kind has made the nodes: the
// registry joins the kind network (kind makes it with the first cluster), and
// where containers reach Docker Hub, the nodes fall back to it for docker.io names
// the local registry does not hold (the node image's configuration has no
// fallback: offline, a name it lacks fails at once instead of after DNS time-outs).
func (m *Manager) mirrorNodes(ctx context.Context, name string, res registryResult) error {
	if !res.used || res.err != nil {
		return res.err
	}
	if err := m.registry.ConnectNetwork(ctx); err != nil {
		return err
	}
	if !res.upstream {
		return nil
	}
	ns, err := m.provider.ListNodes(name)
	if err != nil {
		return err
	}
	for _, n := range ns {
		conf := images.CertsDir + "/docker.io/hosts.toml"
		if err := n.CommandContext(ctx, "sh", "-c", "cat > "+conf).SetStdin(strings.NewReader(images.MirrorHostsToml("docker.io", true))).Run(); err != nil {
			return fmt.Errorf("configure the registry mirror of node %s: %w", n.String(), err)
		}
	}
	return nil
}
