// Package cluster creates, deletes, lists and inspects kindlab's kind clusters
// through the kind library, with kindlab's node image, the lab images loaded and the
// book's NodePort mapped to the host.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	kindlog "sigs.k8s.io/kind/pkg/log"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
	"github.com/kindlab/kindlab/internal/registry"
	"github.com/kindlab/kindlab/internal/runner"
)

// DefaultName is the cluster name when none is given.
const DefaultName = "kindlab"

// DefaultHostPort is the book's custom NodePort, mapped to 127.0.0.1 on the host.
const DefaultHostPort = 31000

// Errors a caller can tell apart.
var (
	ErrDockerDown   = errors.New("docker is not running")
	ErrImageMissing = errors.New("node image missing")
	ErrExists       = errors.New("cluster already exists")
	ErrNotFound     = errors.New("cluster not found")
	ErrPortTaken    = errors.New("host port taken")
)

// Manager runs cluster operations.
type Manager struct {
	provider *kindcluster.Provider
	run      runner.Runner
	debug    func(string)
	emit     func(Progress)
	// registry is the local registry every node pulls through.
	registry *registry.Registry
}

// Options configure a Manager.
type Options struct {
	// Progress receives kind's and kindlab's steps; nil discards.
	Progress func(Progress)
	// Debug receives diagnostics; nil discards.
	Debug io.Writer
	// Verbosity of kind's own logging sent to Debug.
	Verbosity int
}

// New returns a Manager backed by Docker.
func New(o Options) *Manager {
	emit := o.Progress
	if emit == nil {
		emit = func(Progress) {}
	}
	dbg := func(string) {}
	if o.Debug != nil {
		dbg = func(s string) { fmt.Fprintln(o.Debug, s) }
	}
	m := &Manager{
		run:      runner.Runner{Log: o.Debug},
		debug:    dbg,
		registry: registry.New(o.Debug),
	}
	m.emit = emit
	logger := newProgressLogger(m.emit, dbg, kindlog.Level(o.Verbosity))
	m.provider = kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(logger))
	return m
}

// CreateOptions configure Create.
type CreateOptions struct {
	Name string
	// Image is the node image; empty means kindlab's own for KubernetesVersion.
	Image             string
	KubernetesVersion string
	// HostPort is mapped to NodePort 31000 on 127.0.0.1; 0 maps nothing.
	HostPort int
	// Wait bounds how long to wait for every system pod to be Ready.
	Wait time.Duration
	// Retain keeps a cluster whose creation failed, for debugging.
	Retain bool
	// KubeconfigPath is where kind writes the kubeconfig; empty means the default.
	KubeconfigPath string
	// NoLoadBalancer skips installing MetalLB.
	NoLoadBalancer bool
	// Nodes is how many nodes: one control plane and Nodes-1 workers (0 means 1).
	Nodes int
}

// MaxNodes bounds --nodes: each node is a container running a kubelet,
// containerd and the per-node add-ons (BENCHMARKS.md has their memory).
const MaxNodes = 8

// singleNodeControlPlane tunes a cluster's one control-plane node, in a cluster
// that nobody shares, for a quick start. The controller manager creates every add-on's pods,
// and on a fresh cluster it started its controllers 9 s after the API server
// answered: it waited 2 s between tries for a lease only it wants, and its client's
// default rate limit (20 requests/s) paced the ~130 requests that give each of its
// ~40 controllers a service account and a token. So the controller manager and the
// scheduler run without leader election, the controller manager's client may send
// 200 requests/s, and etcd does not fsync (a learner's cluster holds nothing that
// must survive a crash of the machine; a disk sync per write slows the API server).
// Its keys are ECDSA P-256 rather than kubeadm's default RSA-2048: kubeadm makes
// 16 keys before anything starts (0.9 s of a busy CPU for RSA), and every TLS
// handshake with the API server signs with its key.
var singleNodeControlPlane = v1alpha4.PatchJSON6902{
	Group: "kubeadm.k8s.io", Version: "v1beta4", Kind: "ClusterConfiguration",
	Patch: `- op: add
  path: /controllerManager/extraArgs/-
  value: {name: leader-elect, value: "false"}
- op: add
  path: /controllerManager/extraArgs/-
  value: {name: kube-api-qps, value: "200"}
- op: add
  path: /controllerManager/extraArgs/-
  value: {name: kube-api-burst, value: "300"}
- op: add
  path: /scheduler/extraArgs
  value: [{name: leader-elect, value: "false"}]
- op: add
  path: /etcd
  value: {local: {extraArgs: [{name: unsafe-no-fsync, value: "true"}]}}
- op: add
  path: /encryptionAlgorithm
  value: ECDSA-P256
`,
}

// noUploadConfig skips kubeadm's upload-config phase, which stores kubeadm's and
// the kubelet's configuration in ConfigMaps (with RBAC rules to read them) for
// nodes that join later and for `kubeadm upgrade`: a kindlab cluster has one node
// and is recreated, not upgraded. It ran right after the API server answered and
// held up kubeadm's kubelet restart, which the add-ons' pods then waited for.
// (The bootstrap-token phase stays: besides join tokens it lets the API server's
// kubelet client run `kubectl exec` and `logs`.)
var noUploadConfig = v1alpha4.PatchJSON6902{
	Group: "kubeadm.k8s.io", Version: "v1beta4", Kind: "InitConfiguration",
	Patch: `- op: add
  path: /skipPhases/-
  value: upload-config
`,
}

// CheckDocker returns ErrDockerDown when the daemon does not answer.
func (m *Manager) CheckDocker(ctx context.Context) error {
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("%w: docker is not installed; run `sudo kindlab doctor --fix`", ErrDockerDown)
	}
	// A daemon that accepts connections and never answers must not hang kindlab.
	vctx, cancel := context.WithTimeout(ctx, dockerAnswerTimeout)
	defer cancel()
	v, err := m.run.Output(vctx, "docker", "version", "--format", "{{.Server.Version}}")
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if vctx.Err() != nil {
		return fmt.Errorf("%w: the Docker daemon did not answer within %s; restart it (`sudo systemctl restart docker`, or `sudo kindlab doctor --fix`)", ErrDockerDown, dockerAnswerTimeout)
	}
	if err != nil || v == "" {
		return fmt.Errorf("%w: the Docker daemon does not answer; run `sudo kindlab doctor --fix` (or start Docker)", ErrDockerDown)
	}
	return nil
}

// dockerAnswerTimeout bounds `docker version`, which answers in ~50 ms.
var dockerAnswerTimeout = 15 * time.Second

// Exists reports whether a cluster named name exists.
func (m *Manager) Exists(name string) (bool, error) {
	// kind's List takes no context: bounded here, like CheckDocker.
	type listed struct {
		names []string
		err   error
	}
	done := make(chan listed, 1)
	go func() {
		names, err := m.provider.List()
		done <- listed{names, err}
	}()
	select {
	case l := <-done:
		if l.err != nil {
			return false, l.err
		}
		return slices.Contains(l.names, name), nil
	case <-time.After(dockerAnswerTimeout):
		return false, fmt.Errorf("%w: the Docker daemon did not list containers within %s; restart it", ErrDockerDown, dockerAnswerTimeout)
	}
}

// Create makes a cluster and waits until it is ready for the labs. On failure or
// Ctrl-C it deletes what it made, unless Retain.
func (m *Manager) Create(ctx context.Context, o CreateOptions) (err error) {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.KubernetesVersion == "" {
		o.KubernetesVersion = images.DefaultKubernetesVersion
	}
	image := o.Image
	if image == "" {
		image = images.NodeImage(o.KubernetesVersion)
	}
	if err := m.CheckDocker(ctx); err != nil {
		return err
	}
	if ok, err := m.Exists(o.Name); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: a cluster named %q exists; use it, or delete it first with `kindlab cluster delete --cluster %s`", ErrExists, o.Name, o.Name)
	}
	features, err := m.run.Output(ctx, "docker", "image", "inspect", "-f", `{{index .Config.Labels "`+images.NodeFeaturesLabel+`"}}`, image)
	if err != nil {
		if o.Image == "" {
			return fmt.Errorf("%w: %s is not built yet; run `sudo kindlab images build` (about 15 minutes the first time), or pass --image with a node image (e.g. kindest/node:%s where a registry is reachable)", ErrImageMissing, image, o.KubernetesVersion)
		}
		m.debug("node image " + image + " is not local; kind will try to pull it")
	}
	if o.Nodes == 0 {
		o.Nodes = 1
	}
	if o.Nodes < 1 || o.Nodes > MaxNodes {
		return fmt.Errorf("--nodes %d: a cluster has 1 to %d nodes", o.Nodes, MaxNodes)
	}
	has := func(f string) bool { return strings.Contains(","+strings.TrimSpace(features)+",", ","+f+",") }
	if o.Nodes > 1 && o.Image == "" && !has(images.FeatureMultiNode) {
		return fmt.Errorf("%w: %s was built before kindlab's pod network spanned several nodes; rebuild it with `sudo kindlab images build`", ErrImageMissing, image)
	}
	if o.HostPort != 0 {
		if err := portFree(o.HostPort); err != nil {
			return fmt.Errorf("%w: 127.0.0.1:%d is in use (%v); another kindlab cluster may hold it: pass --host-port 0 or another port", ErrPortTaken, o.HostPort, err)
		}
	}

	cfg := &v1alpha4.Cluster{Nodes: []v1alpha4.Node{{Role: v1alpha4.ControlPlaneRole, Image: image}}}
	for i := 1; i < o.Nodes; i++ {
		cfg.Nodes = append(cfg.Nodes, v1alpha4.Node{Role: v1alpha4.WorkerRole, Image: image})
	}
	if o.HostPort != 0 {
		cfg.Nodes[0].ExtraPortMappings = []v1alpha4.PortMapping{{
			ContainerPort: DefaultHostPort, HostPort: int32(o.HostPort), ListenAddress: "127.0.0.1", Protocol: v1alpha4.PortMappingProtocolTCP,
		}}
	}
	if has(images.FeatureKubeadmPatches) {
		// The control plane's pods report Ready as soon as they are healthy.
		cfg.KubeadmConfigPatches = append(cfg.KubeadmConfigPatches, "kind: InitConfiguration\npatches:\n  directory: "+images.KubeadmPatches+"\n")
	}
	// The local registry starts before the cluster (a taken port or a missing
	// image is said before anything is made) and is filled while kind works.
	mirror := has(images.FeatureRegistryMirror)
	if mirror {
		if err := m.step(ctx, "Starting the local registry", func() error { return m.registry.Start(ctx) }); err != nil {
			return err
		}
	}
	plan := addonPlan{coreDNS: has(images.FeatureCoreDNS), network: has(images.FeatureEarlyAddons),
		labImagesShipped: has(images.FeatureEarlyAddons), loadBalancer: !o.NoLoadBalancer, storage: true,
		nodes: o.Nodes, controlPlane: o.Name + "-control-plane"}
	if plan.coreDNS {
		// kindlab applies its own CoreDNS (images.CoreDNSManifest) instead.
		cfg.KubeadmConfigPatches = append(cfg.KubeadmConfigPatches, "kind: ClusterConfiguration\ndns:\n  disabled: true\n")
	}
	if plan.network {
		// kindlab installs the node image's CNI itself, as soon as the API answers.
		cfg.Networking.DisableDefaultCNI = true
		cfg.KubeadmConfigPatchesJSON6902 = append(cfg.KubeadmConfigPatchesJSON6902, singleNodeControlPlane)
		if o.Nodes == 1 {
			// Workers join with what upload-config stores.
			cfg.KubeadmConfigPatchesJSON6902 = append(cfg.KubeadmConfigPatchesJSON6902, noUploadConfig)
		}
	}
	v1alpha4.SetDefaultsCluster(cfg)
	plan.podSubnet = cfg.Networking.PodSubnet

	defer func() {
		if err != nil && !o.Retain {
			m.emit(Progress{Step: "Deleting the half-made cluster"})
			start := time.Now()
			// Even after Ctrl-C, but bounded: a wedged Docker daemon must not hang here.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if derr := m.deleteCluster(dctx, o.Name, o.KubeconfigPath); derr != nil {
				err = errors.Join(err, fmt.Errorf("delete half-made cluster %q: %w", o.Name, derr))
			}
			m.emit(Progress{Step: "Deleting the half-made cluster", Done: true, Elapsed: time.Since(start)})
		}
	}()

	wait := o.Wait
	if wait == 0 {
		wait = 5 * time.Minute
	}
	// kindlab's add-ons go in while kind finishes: they start when the API answers,
	// and then the wait for the system pods starts too.
	addonCtx, stopAddons := context.WithCancel(ctx)
	defer stopAddons()
	addons := m.startAddons(addonCtx, o.Name, plan, wait)
	registryDone := m.fillRegistry(addonCtx, mirror)

	// kind's Create takes no context. On Ctrl-C, removing the node container makes it
	// fail at once; the deferred delete then removes the rest.
	done := make(chan error, 1)
	go func() {
		done <- m.provider.Create(o.Name,
			kindcluster.CreateWithV1Alpha4Config(cfg),
			kindcluster.CreateWithNodeImage(image),
			kindcluster.CreateWithRetain(true), // kindlab deletes, so Ctrl-C and failures share one path
			kindcluster.CreateWithKubeconfigPath(o.KubeconfigPath),
			kindcluster.CreateWithDisplayUsage(false),
			kindcluster.CreateWithDisplaySalutation(false),
		)
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = m.provider.Delete(o.Name, o.KubeconfigPath)
		<-done
		stopAddons()
		<-addons
		<-registryDone
		return ctx.Err()
	}
	if err != nil {
		stopAddons()
		<-addons
		<-registryDone
		return fmt.Errorf("create cluster %q: %w", o.Name, err)
	}
	m.debug("kind has finished")
	regErr := m.mirrorNodes(ctx, o.Name, <-registryDone)
	res := <-addons
	if err := errors.Join(res.err, regErr); err != nil {
		return err
	}
	// kind may have added pods after kubeadm init (its default CNI with a node image
	// other than kindlab's), and workers join after it: they too must be Ready.
	if err := kube.WaitSystemPodsReady(ctx, res.cs, wait); err != nil {
		return err
	}
	// The load balancer goes in last, once the cluster is ready, and its pods are
	// not waited for: they start in the background, as a cloud's load balancer is
	// provisioned after the cluster. Its eight large CustomResourceDefinitions and
	// a pod on every node, applied while kind joined the workers, made a three-node
	// create 10 s slower (BENCHMARKS.md "Several nodes").
	if res.lb != nil {
		return m.applyLoadBalancer(ctx, res.ap, res.cs, res.lb)
	}
	return nil
}

func portFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	return l.Close()
}

// Delete removes a cluster.
func (m *Manager) Delete(ctx context.Context, name, kubeconfigPath string) error {
	if err := m.CheckDocker(ctx); err != nil {
		return err
	}
	ok, err := m.Exists(name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no cluster named %q (see `kindlab cluster list`)", ErrNotFound, name)
	}
	return m.deleteCluster(ctx, name, kubeconfigPath)
}

// deleteCluster deletes with a few tries: Docker sometimes fails to remove a node
// container ("docker rm -f -v ... exit status 1"), most often because a cgroup in
// it was left frozen; each retry thaws first.
func (m *Manager) deleteCluster(ctx context.Context, name, kubeconfigPath string) error {
	var err error
	for try := 0; try < 3; try++ {
		// kind's Delete takes no context: it runs aside, and ctx bounds the wait.
		done := make(chan error, 1)
		go func() { done <- m.provider.Delete(name, kubeconfigPath) }()
		select {
		case err = <-done:
		case <-ctx.Done():
			return fmt.Errorf("delete cluster %q: %w (Docker does not answer; once it does, remove what is left with `docker rm -f %s-control-plane`)", name, ctx.Err(), name)
		}
		if err == nil {
			return nil
		}
		m.debug(fmt.Sprintf("delete %s (try %d): %v", name, try+1, err))
		m.thawNodes(ctx, name)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
	return fmt.Errorf("delete cluster %q: %w (remove what is left with `docker rm -f %s-control-plane`)", name, err, name)
}

// List returns the names of all kind clusters.
func (m *Manager) List(ctx context.Context) ([]string, error) {
	if err := m.CheckDocker(ctx); err != nil {
		return nil, err
	}
	return m.provider.List()
}

// Kubeconfig returns the cluster's kubeconfig for use from the host.
func (m *Manager) Kubeconfig(name string) (string, error) {
	return m.provider.KubeConfig(name, false)
}

// Client returns a clientset for the cluster.
func (m *Manager) Client(name string) (kubernetes.Interface, error) {
	kc, err := m.Kubeconfig(name)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig of cluster %q: %w", name, err)
	}
	cfg, err := kube.RESTConfigFromKubeconfig([]byte(kc), "")
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// NodeAddress is the node's address on Docker's kind network: NodePorts answer there.
func (m *Manager) NodeAddress(ctx context.Context, name string) (string, error) {
	out, err := m.run.Output(ctx, "docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name+"-control-plane")
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", fmt.Errorf("node %s-control-plane has no address", name)
	}
	return f[0], nil
}

// HostPort returns the host port on 127.0.0.1 that maps to NodePort 31000, or 0.
func (m *Manager) HostPort(ctx context.Context, name string) int {
	out, err := m.run.Output(ctx, "docker", "port", name+"-control-plane", fmt.Sprintf("%d/tcp", DefaultHostPort))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(out, "\n") {
		if _, port, ok := strings.Cut(strings.TrimSpace(l), "127.0.0.1:"); ok {
			var p int
			if _, err := fmt.Sscan(port, &p); err == nil {
				return p
			}
		}
	}
	return 0
}
