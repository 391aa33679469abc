package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"text/template"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/kind/pkg/cluster/nodes"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
)

// addonPlan says what kindlab installs on top of what kind installs.
type addonPlan struct {
	// coreDNS: kindlab's CoreDNS (images.CoreDNSManifest) replaces kubeadm's add-on.
	coreDNS bool
	// network: kindlab installs the node image's CNI (kind's default-cni.yaml,
	// templated with podSubnet) instead of kind after kubeadm init.
	network   bool
	podSubnet string
	// labImagesShipped: the node image is kindlab's, whose build put the lab images
	// in it and checked them; otherwise they are checked, and loaded if missing.
	labImagesShipped bool
	// loadBalancer: MetalLB, when the node image ships its manifest; installed once
	// the cluster is ready, its pods not waited for (Create).
	loadBalancer bool
	// nodes is how many nodes the cluster has; controlPlane is its control-plane
	// node's name, which every node resolves.
	nodes        int
	controlPlane string
	// storage: kind's default storage (the local-path provisioner and the default
	// StorageClass), which kind applies only after `kubeadm init`; applied early,
	// its pod starts with the others (images.LocalPathManifest).
	storage bool
}

// placeAPI points the add-ons' containers at the API server where the cluster's
// size needs it: on several nodes, apiOnControlPlane; on one, as the image has them.
func (p addonPlan) placeAPI(objs []*unstructured.Unstructured) error {
	if p.nodes > 1 {
		return apiOnControlPlane(objs, p.controlPlane)
	}
	return nil
}

// addonResult is the outcome of startAddons: clients for the cluster and, when
// the plan has a load balancer and the node image ships one, MetalLB ready to apply.
type addonResult struct {
	addonClients
	lb  *metalLB
	err error
}

// startAddons installs the plan's add-ons as soon as the new cluster's API server
// answers, while kind is still finishing `kubeadm init`: their pods then start
// alongside kubeadm's last phases instead of after them. Then it waits up to wait
// for every system pod to be Ready. The load balancer is only prepared here (read
// from the node, its certificate made); Create applies it once the whole cluster
// is ready (applyLoadBalancer). The channel receives the outcome, or ctx's error
// once ctx is done.
func (m *Manager) startAddons(ctx context.Context, name string, plan addonPlan, wait time.Duration) <-chan addonResult {
	done := make(chan addonResult, 1)
	go func() {
		a, err := m.addons(ctx, name, plan)
		if err != nil {
			done <- addonResult{addonClients: a, err: err}
			return
		}
		var lb *metalLB
		var lbErr error
		prepared := make(chan struct{})
		go func() {
			defer close(prepared)
			if !plan.loadBalancer {
				return
			}
			if lb, lbErr = m.prepareLoadBalancer(ctx, name, a.node); lbErr == nil && lb != nil {
				lbErr = plan.placeAPI(lb.objs)
			}
		}()
		start := time.Now()
		const step = "Waiting for every system pod to be Ready"
		m.emit(Progress{Step: step})
		err = kube.WaitSystemPodsReady(ctx, a.cs, wait)
		m.emit(Progress{Step: step, Done: err == nil, Failed: err != nil, Elapsed: time.Since(start)})
		<-prepared
		done <- addonResult{addonClients: a, lb: lb, err: errors.Join(err, lbErr)}
	}()
	return done
}

// addonClients is what the add-ons are installed with.
type addonClients struct {
	cs   kubernetes.Interface
	ap   *kube.Applier
	node nodes.Node
}

// addons installs the plan's add-ons, but the load balancer, once the API server
// answers.
func (m *Manager) addons(ctx context.Context, name string, plan addonPlan) (addonClients, error) {
	cfg, node, err := m.waitAPI(ctx, name)
	if err != nil {
		return addonClients{}, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return addonClients{}, err
	}
	ap, err := kube.NewApplier(cfg)
	if err != nil {
		return addonClients{}, err
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	run := func(i int, f func() error) {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f() }()
	}
	if !plan.labImagesShipped {
		run(0, func() error { return m.ensureLabImages(ctx, name) })
	}
	if plan.network {
		run(1, func() error { return m.installNetwork(ctx, node, ap, plan) })
	}
	if plan.coreDNS {
		run(2, func() error {
			return m.step(ctx, "Installing CoreDNS", func() error {
				manifest, err := readNodeFile(ctx, node, images.CoreDNSManifest)
				if err != nil {
					return err
				}
				objs, err := kube.Objects(manifest)
				if err != nil {
					return err
				}
				if plan.nodes > 1 {
					if err := onControlPlane(objs, "Deployment"); err != nil {
						return err
					}
				}
				return ap.ApplyObjects(ctx, objs, 3*time.Minute)
			})
		})
	}
	if plan.storage {
		run(3, func() error {
			manifest, err := readNodeFile(ctx, node, images.LocalPathManifest)
			if errors.Is(err, errNodeFileMissing) { // not kindlab's image: kind's whole manifest
				manifest, err = readNodeFile(ctx, node, images.StorageManifest)
			}
			if errors.Is(err, errNodeFileMissing) {
				return nil // kind applies its fallback StorageClass
			}
			if err != nil {
				return err
			}
			objs, err := kube.Objects(manifest)
			if err != nil {
				return err
			}
			if err := plan.placeAPI(objs); err != nil {
				return err
			}
			return m.step(ctx, "Installing local storage (local-path)", func() error { return ap.ApplyObjects(ctx, objs, 3*time.Minute) })
		})
	}
	wg.Wait()
	return addonClients{cs: cs, ap: ap, node: node}, errors.Join(errs...)
}

// step reports f as a progress step.
func (m *Manager) step(ctx context.Context, title string, f func() error) error {
	start := time.Now()
	m.emit(Progress{Step: title})
	err := f()
	if ctx.Err() != nil && err != nil {
		err = ctx.Err()
	}
	m.emit(Progress{Step: title, Done: err == nil, Failed: err != nil, Elapsed: time.Since(start)})
	if err != nil {
		return fmt.Errorf("%s: %w", strings.ToLower(title[:1])+title[1:], err)
	}
	return nil
}

// waitAPI waits until the cluster's control-plane node exists, its API server
// serves and answers kubeadm's admin. kind's own kubeconfig comes only when kind is
// done; this one is the same, read early. Until the API server serves, it only
// tries a TLS handshake on the node's published port: a `docker exec` into the
// node each time would take CPU from the starting control plane.
func (m *Manager) waitAPI(ctx context.Context, name string) (*rest.Config, nodes.Node, error) {
	var (
		node  nodes.Node
		addr  string
		cfg   *rest.Config
		probe kubernetes.Interface
		last  error
	)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if last != nil {
				return nil, nil, fmt.Errorf("%w (last: %v)", ctx.Err(), last)
			}
			return nil, nil, ctx.Err()
		case <-tick.C:
		}
		if node == nil {
			cp, err := m.controlPlaneNode(name)
			if err != nil {
				last = err
				continue
			}
			node = cp
		}
		if addr == "" {
			out, err := m.run.Output(ctx, "docker", "port", node.String(), "6443/tcp")
			if err != nil {
				last = err
				continue
			}
			if addr = apiAddress(out); addr == "" {
				return nil, nil, fmt.Errorf("node %s publishes no port for the API server: %q", node.String(), out)
			}
		}
		if cfg == nil {
			if err := tlsAnswers(ctx, addr); err != nil {
				last = err
				continue
			}
			kc, err := m.provider.KubeConfig(name, false)
			if err != nil {
				last = err
				continue
			}
			if cfg, err = kube.RESTConfigFromKubeconfig([]byte(kc), ""); err != nil {
				return nil, nil, err
			}
			short := rest.CopyConfig(cfg)
			short.Timeout = 2 * time.Second
			if probe, err = kubernetes.NewForConfig(short); err != nil {
				return nil, nil, err
			}
		}
		// Answers once kubeadm has bound its admin group.
		if _, err := probe.CoreV1().Namespaces().Get(ctx, metav1.NamespaceSystem, metav1.GetOptions{}); err != nil {
			last = err
			continue
		}
		m.debug("API server answers the admin")
		return cfg, node, nil
	}
}

// apiAddress picks a host address from `docker port` output; a wildcard address
// is reached on the loopback.
func apiAddress(out string) string {
	for _, l := range strings.Fields(out) {
		host, port, err := net.SplitHostPort(l)
		if err != nil || port == "" {
			continue
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			if ip.To4() != nil {
				host = "127.0.0.1"
			} else {
				host = "::1"
			}
		}
		return net.JoinHostPort(host, port)
	}
	return ""
}

// tlsAnswers completes a TLS handshake with addr: the port is published before the
// API server serves, so a TCP connection alone proves nothing.
func tlsAnswers(ctx context.Context, addr string) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: &tls.Config{InsecureSkipVerify: true}} // only asks whether it serves
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// installNetwork installs the pod network. kind would apply the CNI after
// `kubeadm init` returns; done here, its pod starts seconds sooner. (kube-proxy
// comes from kubeadm's last phase: running that phase here as well, early, was
// slower, a second kubeadm process on the two busy cores.)
func (m *Manager) installNetwork(ctx context.Context, node nodes.Node, ap *kube.Applier, plan addonPlan) error {
	return m.step(ctx, "Installing the pod network (flannel)", func() error {
		manifest, err := nodeTemplate(ctx, node, "/kind/manifests/default-cni.yaml", map[string]string{"PodSubnet": plan.podSubnet})
		if err != nil {
			return err
		}
		objs, err := kube.Objects(manifest)
		if err != nil {
			return err
		}
		if err := plan.placeAPI(objs); err != nil {
			return err
		}
		return ap.ApplyObjects(ctx, objs, 3*time.Minute)
	})
}

// nodeTemplate reads a manifest kept in the node image and fills it in as a Go
// template with data (kind's templates for its manifests).
func nodeTemplate(ctx context.Context, node nodes.Node, path string, data map[string]string) ([]byte, error) {
	manifest, err := readNodeFile(ctx, node, path)
	if err != nil {
		return nil, err
	}
	t, err := template.New(path).Option("missingkey=error").Parse(string(manifest))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b.Bytes(), nil
}

// readNodeFile reads a file of the node; errNodeFileMissing when there is none.
func readNodeFile(ctx context.Context, node nodes.Node, path string) ([]byte, error) {
	var out, errOut bytes.Buffer
	cmd := node.CommandContext(ctx, "cat", path)
	cmd.SetStdout(&out)
	cmd.SetStderr(&errOut)
	if err := cmd.Run(); err != nil {
		if strings.Contains(errOut.String(), "No such file") {
			return nil, fmt.Errorf("%w: %s", errNodeFileMissing, path)
		}
		return nil, fmt.Errorf("read %s in node %s: %v: %s", path, node.String(), err, strings.TrimSpace(errOut.String()))
	}
	return out.Bytes(), nil
}

var errNodeFileMissing = errors.New("the node image has no such file")
