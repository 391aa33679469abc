package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"k8s.io/client-go/rest"

	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/kube"
	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/internal/progress"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

// lang is the learner's language: --lang, else the locale, else English.
func (g *Globals) lang() string {
	l := g.Lang
	if l == "" {
		for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
			if v := os.Getenv(env); v != "" {
				l = v
				break
			}
		}
	}
	if strings.HasPrefix(strings.ToLower(l), "ko") {
		return "ko"
	}
	return "en"
}

// loadLabs loads the embedded labs; a broken lab file is a bug in this build.
func loadLabs() (*lab.Set, error) {
	set, err := lab.Load(labs.FS, manifests.FS)
	if err != nil {
		return nil, fmt.Errorf("the labs built into kindlab do not load (run `kindlab labs lint`): %w", err)
	}
	return set, nil
}

// restConfig is the cluster's client config: --kubeconfig/--context if given,
// else the kind cluster --cluster.
func (g *Globals) restConfig(ctx context.Context, m *cluster.Manager) (*rest.Config, error) {
	if g.Kubeconfig != "" {
		data, err := os.ReadFile(g.Kubeconfig)
		if err != nil {
			return nil, cannot(fmt.Errorf("read --kubeconfig: %w", err))
		}
		cfg, err := kube.RESTConfigFromKubeconfig(data, g.Context)
		if err != nil {
			return nil, cannot(err)
		}
		return cfg, nil
	}
	if err := m.CheckDocker(ctx); err != nil {
		return nil, cannot(err)
	}
	ok, err := m.Exists(g.Cluster)
	if err != nil {
		return nil, cannot(err)
	}
	if !ok {
		return nil, cannot(fmt.Errorf("%w: no cluster named %q; create it with `kindlab up` (or `kindlab cluster create`)", cluster.ErrNotFound, g.Cluster))
	}
	kc, err := m.Kubeconfig(g.Cluster)
	if err != nil {
		// Read from inside the node: a stopped one (the machine restarted) is
		// said as such, and how to start it.
		if stopped, serr := m.Stopped(ctx, g.Cluster); serr == nil && len(stopped) > 0 {
			up := "kindlab up"
			if g.Cluster != cluster.DefaultName {
				up += " --cluster " + g.Cluster
			}
			return nil, cannot(fmt.Errorf("%w: cluster %q is not running (node %s; the machine restarted?): start it with `%s`, which keeps everything in it", cluster.ErrStopped, g.Cluster, strings.Join(stopped, ", "), up))
		}
		return nil, cannot(fmt.Errorf("cluster %q does not answer (kindlab cluster status): %w", g.Cluster, err))
	}
	cfg, err := kube.RESTConfigFromKubeconfig([]byte(kc), g.Context)
	if err != nil {
		return nil, cannot(err)
	}
	return cfg, nil
}

// openSession connects to the cluster for the labs in --namespace.
func (g *Globals) openSession(ctx context.Context, s Streams, set *lab.Set) (*engine.Session, error) {
	m := cluster.New(cluster.Options{})
	cfg, err := g.restConfig(ctx, m)
	if err != nil {
		return nil, err
	}
	t := engine.Target{Config: cfg, Namespace: g.Namespace}
	if g.Kubeconfig == "" {
		name := g.Cluster
		t.NodeAddress = func(ctx context.Context) (string, error) { return m.NodeAddress(ctx, name) }
		t.HostPort = m.HostPort(ctx, name)
	}
	sess, err := engine.Open(ctx, set, t, g.lang())
	if err != nil {
		return nil, cannot(err)
	}
	return sess, nil
}

// stateDir is where progress and the class are kept.
func stateDir() (string, error) {
	dir, err := progress.DefaultDir()
	if err != nil {
		return "", cannot(errors.New("no state directory: set KINDLAB_STATE_DIR"))
	}
	return dir, nil
}

// progressName names the progress of labs in namespace ns of a cluster (or of
// a kubeconfig's context).
func progressName(cluster, ns string) string {
	if ns != "" && ns != "default" {
		return cluster + "--" + ns
	}
	return cluster
}

func (g *Globals) progress() (*progress.Store, error) {
	dir, err := stateDir()
	if err != nil {
		return nil, err
	}
	name := g.Cluster
	if g.Kubeconfig != "" {
		// The context the kubeconfig's credentials come from: two learners'
		// kubeconfigs (each with its own current context) keep apart.
		ctxName := g.Context
		if ctxName == "" {
			if data, err := os.ReadFile(g.Kubeconfig); err == nil {
				ctxName, _ = kube.KubeconfigCurrentContext(data)
			}
		}
		name = kubeconfigProgressName(ctxName)
	}
	ps := progress.Open(dir, progressName(name, g.Namespace))
	g.stores = append(g.stores, ps)
	return ps, nil
}

// kubeconfigProgressName names the progress of a kubeconfig's context.
func kubeconfigProgressName(context string) string {
	return "kubeconfig-" + strings.NewReplacer("/", "_", ":", "_", "\\", "_", "..", "_").Replace(context)
}
