package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
	"github.com/kindlab/kindlab/internal/registry"
)

// Status describes one cluster as a learner needs to know it.
type Status struct {
	Name        string   `json:"name"`
	Exists      bool     `json:"exists"`
	NodeImage   string   `json:"nodeImage,omitempty"`
	NodeState   string   `json:"nodeState,omitempty"`
	NodeAddress string   `json:"nodeAddress,omitempty"`
	HostPorts   []string `json:"hostPorts,omitempty"`
	APIServer   string   `json:"apiServer,omitempty"`
	Version     string   `json:"version,omitempty"`
	NodesReady  string   `json:"nodesReady,omitempty"`
	// Nodes lists every node: its container, role, address and readiness.
	Nodes      []NodeStatus `json:"nodes,omitempty"`
	SystemPods string       `json:"systemPods,omitempty"`
	NotReady   []string     `json:"notReady,omitempty"`
	// Addons counts the pods of add-ons that start in the background after a
	// create (kube.AddonNamespaces: the load balancer); AddonsStarting names those
	// not Ready yet. They do not make a cluster not Ready.
	Addons         string   `json:"addons,omitempty"`
	AddonsStarting []string `json:"addonsStarting,omitempty"`
	LabImages      string   `json:"labImages,omitempty"`
	// Registry is the local registry every node pulls through, for a node image
	// that pulls through it (images.FeatureRegistryMirror).
	Registry *registry.Status `json:"registry,omitempty"`
	// URLs reach NodePort and LoadBalancer Services from this machine.
	URLs []ServiceURL `json:"urls,omitempty"`
	// Ready is true when the API answers and every node and system pod is Ready.
	Ready   bool   `json:"ready"`
	Problem string `json:"problem,omitempty"`
}

// NodeStatus is one node of a cluster.
type NodeStatus struct {
	Name    string `json:"name"`
	Role    string `json:"role,omitempty"`
	State   string `json:"state"` // of its container: running, exited, ...
	Address string `json:"address,omitempty"`
	Ready   bool   `json:"ready"`
}

// Status inspects a cluster. A missing or broken cluster is not an error: it is
// described in the returned Status.
func (m *Manager) Status(ctx context.Context, name string) (Status, error) {
	st := Status{Name: name}
	if err := m.CheckDocker(ctx); err != nil {
		return st, err
	}
	ok, err := m.Exists(name)
	if err != nil {
		return st, err
	}
	if !ok {
		st.Problem = fmt.Sprintf("no cluster named %q: create it with `kindlab cluster create --cluster %s`", name, name)
		return st, nil
	}
	st.Exists = true
	node := name + "-control-plane"
	if out, err := m.run.Output(ctx, "docker", "inspect", "-f", "{{.Config.Image}}\t{{.State.Status}}", node); err == nil {
		st.NodeImage, st.NodeState, _ = strings.Cut(out, "\t")
	}
	if out, err := m.run.Output(ctx, "docker", "port", node); err == nil {
		for _, l := range strings.Split(out, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				st.HostPorts = append(st.HostPorts, l)
			}
		}
	}
	st.NodeAddress, _ = m.NodeAddress(ctx, name)
	if ncs, err := m.nodeContainers(ctx, name); err == nil {
		for _, n := range ncs {
			st.Nodes = append(st.Nodes, NodeStatus{Name: n.name, Role: n.role, State: n.state, Address: n.address})
		}
	}
	sort.Slice(st.Nodes, func(i, j int) bool {
		a, b := st.Nodes[i], st.Nodes[j]
		if (a.Role == "control-plane") != (b.Role == "control-plane") {
			return a.Role == "control-plane"
		}
		return a.Name < b.Name
	})
	for _, n := range st.Nodes {
		if n.State != "running" {
			st.Problem = fmt.Sprintf("node container %s is %q (the machine restarted, or it was stopped by hand?): start the cluster with `kindlab up --cluster %s`, which keeps everything in it", n.Name, n.State, name)
			return st, nil
		}
	}
	if st.NodeState != "running" {
		st.Problem = fmt.Sprintf("node container %s is %q (the machine restarted?): start the cluster with `kindlab up`, which keeps everything in it", node, st.NodeState)
		return st, nil
	}

	cs, err := m.Client(name)
	if err != nil {
		st.Problem = err.Error()
		return st, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		st.Problem = "the API server does not answer: " + err.Error()
		return st, nil
	}
	st.Version = v.GitVersion
	if kc, err := m.Kubeconfig(name); err == nil {
		if cfg, err := kube.RESTConfigFromKubeconfig([]byte(kc), ""); err == nil {
			st.APIServer = cfg.Host
		}
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		st.Problem = err.Error()
		return st, nil
	}
	readyNodes := 0
	for _, n := range nodes.Items {
		if !kube.NodeReady(&n) {
			continue
		}
		readyNodes++
		for i := range st.Nodes {
			if st.Nodes[i].Name == n.Name {
				st.Nodes[i].Ready = true
			}
		}
	}
	st.NodesReady = fmt.Sprintf("%d/%d", readyNodes, len(nodes.Items))
	count := func(namespaces []string, notReady *[]string) (total, ready int) {
		for _, ns := range namespaces {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for i := range pods.Items {
				p := &pods.Items[i]
				if p.Status.Phase == corev1.PodSucceeded {
					continue
				}
				total++
				if kube.PodReady(p) {
					ready++
				} else {
					*notReady = append(*notReady, ns+"/"+p.Name+" ("+kube.PodProblem(p)+")")
				}
			}
		}
		return total, ready
	}
	total, ready := count(kube.SystemNamespaces, &st.NotReady)
	st.SystemPods = fmt.Sprintf("%d/%d Ready", ready, total)
	if at, ar := count(kube.AddonNamespaces, &st.AddonsStarting); at > 0 {
		st.Addons = fmt.Sprintf("%d/%d Ready", ar, at)
	}
	if ns, err := m.provider.ListNodes(name); err == nil && len(ns) > 0 {
		if missing, err := missingImages(ns[0]); err == nil {
			st.LabImages = fmt.Sprintf("%d/%d loaded", len(images.LabImages)-len(missing), len(images.LabImages))
		}
	}
	if m.usesRegistry(ctx, name) {
		rs := m.registry.Status(ctx)
		st.Registry = &rs
	}
	st.URLs, _ = m.ServiceURLs(ctx, name, cs)
	st.Ready = readyNodes == len(nodes.Items) && len(nodes.Items) > 0 && ready == total && total > 0
	if !st.Ready {
		st.Problem = "not every node and system pod is Ready yet"
	}
	return st, nil
}
