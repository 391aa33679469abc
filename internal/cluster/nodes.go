package cluster

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kind/pkg/cluster/constants"
	"sigs.k8s.io/kind/pkg/cluster/nodes"
)

// controlPlaneNode is the cluster's control-plane node container.
func (m *Manager) controlPlaneNode(name string) (nodes.Node, error) {
	ns, err := m.provider.ListNodes(name)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		if role, err := n.Role(); err == nil && role == constants.ControlPlaneNodeRoleValue {
			return n, nil
		}
	}
	return nil, fmt.Errorf("cluster %q has no control-plane node yet", name)
}

// NodeCount is how many node containers the cluster has.
func (m *Manager) NodeCount(name string) (int, error) {
	ns, err := m.provider.ListNodes(name)
	return len(ns), err
}

// apiOnControlPlane points add-ons' containers at the API server on a cluster of
// several nodes. The node image's manifests send them to their own node's
// address, port 6443, so they need not wait for kube-proxy (the image build's apiFromHostIP):
// only the control-plane node serves there. A pod on the host's network reaches
// the control-plane node by its name instead; other pods use the kubernetes
// Service, as anywhere else.
func apiOnControlPlane(objs []*unstructured.Unstructured, controlPlane string) error {
	for _, u := range objs {
		spec, ok, _ := unstructured.NestedMap(u.Object, "spec", "template", "spec")
		if !ok {
			continue
		}
		hostNetwork, _, _ := unstructured.NestedBool(spec, "hostNetwork")
		changed := false
		for _, field := range []string{"containers", "initContainers"} {
			containers, _, _ := unstructured.NestedSlice(spec, field)
			for i, c := range containers {
				cm, ok := c.(map[string]any)
				if !ok {
					continue
				}
				env, _, _ := unstructured.NestedSlice(cm, "env")
				var kept []any
				for _, e := range env {
					em, _ := e.(map[string]any)
					switch em["name"] {
					case "KUBERNETES_SERVICE_HOST":
						changed = true
						if hostNetwork {
							kept = append(kept, map[string]any{"name": "KUBERNETES_SERVICE_HOST", "value": controlPlane})
						}
						continue
					case "KUBERNETES_SERVICE_PORT":
						changed = true
						if hostNetwork {
							kept = append(kept, e)
						}
						continue
					}
					kept = append(kept, e)
				}
				if kept == nil {
					delete(cm, "env")
				} else {
					cm["env"] = kept
				}
				containers[i] = cm
			}
			if len(containers) > 0 {
				spec[field] = containers
			}
		}
		if changed {
			if err := unstructured.SetNestedMap(u.Object, spec, "spec", "template", "spec"); err != nil {
				return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
			}
		}
	}
	return nil
}

// ControlPlaneRoleLabel is the label kubeadm gives the control-plane node.
const ControlPlaneRoleLabel = "node-role.kubernetes.io/control-plane"

// onControlPlane keeps the pods of objs' workloads of the given kind on the
// control-plane node (a nodeSelector on kubeadm's role label). kindlab's CoreDNS
// reaches the API server on its own node's address, which only the control plane
// serves: scheduled on a worker (a slow control plane let the scheduler see the
// workers first, or a `kubectl rollout restart` later), it never got Ready. It is
// also where the book puts the cluster's DNS server.
func onControlPlane(objs []*unstructured.Unstructured, kind string) error {
	for _, u := range objs {
		if u.GetKind() != kind {
			continue
		}
		if err := unstructured.SetNestedField(u.Object, "", "spec", "template", "spec", "nodeSelector", ControlPlaneRoleLabel); err != nil {
			return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}
