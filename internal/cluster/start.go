package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kindlab/kindlab/internal/kube"
)

// ErrStopped says a cluster's node containers are not running (the machine
// restarted, or someone ran `docker stop`): `kindlab up` starts them again.
var ErrStopped = errors.New("cluster stopped")

// nodeContainer is one node container of a cluster as Docker sees it.
type nodeContainer struct {
	name    string
	state   string // created, running, paused, restarting, removing, exited, dead
	started time.Time
	role    string // control-plane or worker (kind's label)
	address string // on the kind network, while it runs
}

// nodeContainers lists the cluster's node containers, running or not.
func (m *Manager) nodeContainers(ctx context.Context, name string) ([]nodeContainer, error) {
	out, err := m.run.Output(ctx, "docker", "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster="+name, "--format", "{{.Names}}")
	if err != nil {
		return nil, err
	}
	names := strings.Fields(out)
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: cluster %q has no node container", ErrNotFound, name)
	}
	out, err = m.run.Output(ctx, "docker", append([]string{"inspect", "-f",
		`{{.Name}}	{{.State.Status}}	{{.State.StartedAt}}	{{index .Config.Labels "io.x-k8s.kind.role"}}	{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}	.`}, names...)...)
	if err != nil {
		return nil, err
	}
	return parseNodeContainers(name, out)
}

// parseNodeContainers reads nodeContainers' `docker inspect` lines.
func parseNodeContainers(name, out string) ([]nodeContainer, error) {
	var ns []nodeContainer
	// A stopped container has no address: the "." ending each line keeps its
	// field when the output is trimmed.
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("docker inspect of cluster %q's nodes: unexpected line %q", name, l)
		}
		started, _ := time.Parse(time.RFC3339Nano, f[2])
		ns = append(ns, nodeContainer{name: strings.TrimPrefix(f[0], "/"), state: f[1], started: started, role: f[3], address: strings.TrimSpace(f[4])})
	}
	return ns, nil
}

// Stopped names the cluster's node containers that do not run; none for a running
// cluster.
func (m *Manager) Stopped(ctx context.Context, name string) ([]string, error) {
	ns, err := m.nodeContainers(ctx, name)
	if err != nil {
		return nil, err
	}
	var stopped []string
	for _, n := range ns {
		if n.state != "running" {
			stopped = append(stopped, n.name+" ("+n.state+")")
		}
	}
	return stopped, nil
}

// Start brings back a cluster whose node containers stopped (a machine restart,
// `docker stop`, Docker restarted without them): it starts them and the local
// registry, then waits until the API server answers and every node and system pod
// is Ready again, by statuses written since the nodes started. Nothing is
// recreated: the learner's objects live in the node's etcd, on its volume. A
// cluster whose nodes run and started more than wait ago is only checked for its
// registry: its status says the rest.
func (m *Manager) Start(ctx context.Context, name string, wait time.Duration) error {
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	ns, err := m.nodeContainers(ctx, name)
	if err != nil {
		return err
	}
	var startNames, unpause []string
	for _, n := range ns {
		switch n.state {
		case "running":
		case "paused":
			unpause = append(unpause, n.name)
		case "created", "exited":
			startNames = append(startNames, n.name)
		default: // restarting, removing, dead
			return fmt.Errorf("node container %s is %q: Docker cannot start it; recreate the cluster (`kindlab up --recreate`, which deletes the learner's objects)", n.name, n.state)
		}
	}
	if len(startNames)+len(unpause) > 0 {
		err := m.step(ctx, "Starting the node containers", func() error {
			if len(unpause) > 0 {
				if _, err := m.run.Output(ctx, "docker", append([]string{"unpause"}, unpause...)...); err != nil {
					return err
				}
			}
			if len(startNames) > 0 {
				if _, err := m.run.Output(ctx, "docker", append([]string{"start"}, startNames...)...); err != nil {
					return fmt.Errorf("%w (is a port the cluster publishes taken by another program? `docker start %s` says more)", err, strings.Join(startNames, " "))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if ns, err = m.nodeContainers(ctx, name); err != nil {
			return err
		}
	}
	// The registry first: a node that starts pulls nothing, but a learner's next pod may.
	if err := m.EnsureRegistry(ctx, name); err != nil {
		return err
	}
	started := map[string]time.Time{}
	for _, n := range ns {
		if time.Since(n.started) < wait {
			started[n.name] = n.started
		}
	}
	if len(started) == 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var cs kubernetes.Interface
	err = m.step(wctx, "Waiting for the API server", func() error {
		cfg, _, err := m.waitAPI(wctx, name)
		if err != nil {
			return fmt.Errorf("the API server did not answer within %s: %w", wait, err)
		}
		cs, err = kubernetes.NewForConfig(cfg)
		return err
	})
	if err != nil {
		return err
	}
	deadline, _ := wctx.Deadline()
	return m.step(wctx, "Waiting for the node and the system pods", func() error {
		return kube.WaitSystemReadySince(wctx, cs, time.Until(deadline), started)
	})
}
