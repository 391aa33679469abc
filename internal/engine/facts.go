package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/kube"
)

// Fact implements check.Cluster: what the chapter's opening commands show of the
// whole cluster (`kubectl get nodes -o wide`, `kubectl get pods -n kube-system
// -o wide`, `kubectl api-resources`), read the way those commands read it, so a
// learner in a class namespace needs no more access than they do.
func (s *Session) Fact(ctx context.Context, fact, object string) ([]string, error) {
	switch fact {
	case "nodeCount", "containerRuntime", "kubeletVersion":
		nodes, err := s.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading the nodes: %w", err)
		}
		if len(nodes.Items) == 0 {
			return nil, fmt.Errorf("the cluster lists no node")
		}
		switch fact {
		case "nodeCount":
			return []string{fmt.Sprint(len(nodes.Items))}, nil
		case "kubeletVersion":
			return []string{nodes.Items[0].Status.NodeInfo.KubeletVersion}, nil
		}
		// CONTAINER-RUNTIME shows e.g. containerd://1.7.24: its name is the answer,
		// the whole value as good.
		full := nodes.Items[0].Status.NodeInfo.ContainerRuntimeVersion
		name, _, _ := strings.Cut(full, "://")
		return []string{name, full}, nil
	case "apiServerNode":
		pods, err := s.systemPods(ctx, "component=kube-apiserver")
		if err != nil {
			return nil, err
		}
		for _, p := range pods {
			if p.Spec.NodeName != "" {
				return []string{p.Spec.NodeName}, nil
			}
		}
		return nil, fmt.Errorf("no kube-apiserver pod in kube-system")
	case "networkPlugin":
		pods, err := s.systemPods(ctx, "")
		if err != nil {
			return nil, err
		}
		// The network plugin runs on every node like kube-proxy, as a DaemonSet of
		// kube-system: kube-flannel's pods, calico-node's, kindnet's.
		for _, p := range pods {
			if o := metav1.GetControllerOf(&p); o != nil && o.Kind == "DaemonSet" && o.Name != "kube-proxy" {
				return pluginNames(o.Name), nil
			}
		}
		return nil, fmt.Errorf("no network plugin DaemonSet's pod in kube-system")
	case "daemonSetPods":
		pods, err := s.systemPods(ctx, "")
		if err != nil {
			return nil, err
		}
		n := 0
		for _, p := range pods {
			if o := metav1.GetControllerOf(&p); o != nil && o.Kind == "DaemonSet" && o.Name == object {
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("no pod of DaemonSet %s in kube-system", object)
		}
		return []string{fmt.Sprint(n)}, nil
	case "shortName":
		_, lists, err := s.cs.Discovery().ServerGroupsAndResources()
		if err != nil && len(lists) == 0 {
			return nil, fmt.Errorf("reading the API's resources: %w", err)
		}
		for _, l := range lists {
			for _, r := range l.APIResources {
				if r.Name == object && len(r.ShortNames) > 0 {
					return r.ShortNames, nil
				}
			}
		}
		return nil, fmt.Errorf("no resource %s with a short name", object)
	}
	return nil, fmt.Errorf("unknown cluster fact %q", fact)
}

// systemPods lists kube-system's pods (with a label selector, when not empty),
// sorted by name.
func (s *Session) systemPods(ctx context.Context, selector string) ([]corev1.Pod, error) {
	pods, err := s.cs.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("reading the pods of kube-system: %w", err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	return pods.Items, nil
}

// pluginNames are the answers naming a network plugin's DaemonSet: the plugin's
// own name first (flannel for kube-flannel or kube-flannel-ds, calico for
// calico-node), then the DaemonSet's name.
func pluginNames(ds string) []string {
	name := strings.TrimPrefix(ds, "kube-")
	for _, suffix := range []string{"-ds", "-node"} {
		name = strings.TrimSuffix(name, suffix)
	}
	names := []string{name}
	if !slices.Contains(names, ds) {
		names = append(names, ds)
	}
	return names
}

// Nodes counts the cluster's nodes and those Ready (the UI's cluster line).
func (s *Session) Nodes(ctx context.Context) (ready, total int, err error) {
	list, err := s.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, 0, err
	}
	for i := range list.Items {
		if kube.NodeReady(&list.Items[i]) {
			ready++
		}
	}
	return ready, len(list.Items), nil
}

// ClusterNodes implements check.Cluster: every node with its InternalIP (on a
// kind cluster, its address on the kind network, which this machine reaches).
func (s *Session) ClusterNodes(ctx context.Context) ([]check.Node, error) {
	list, err := s.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading the nodes: %w", err)
	}
	var out []check.Node
	for _, n := range list.Items {
		node := check.Node{Name: n.Name, Schedulable: !n.Spec.Unschedulable}
		for _, t := range n.Spec.Taints {
			if t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute {
				node.Schedulable = false
			}
		}
		for _, want := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
			for _, a := range n.Status.Addresses {
				if node.Address == "" && a.Type == want {
					node.Address = a.Address
				}
			}
		}
		out = append(out, node)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
