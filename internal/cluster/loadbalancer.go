package cluster

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/cluster/nodes"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
)

const metallbNamespace = "metallb-system"

// installLoadBalancer installs MetalLB (shipped in kindlab's node image) in L2 mode
// with an address pool at the top of the kind Docker network, away from the node
// addresses Docker hands out from the bottom, so LoadBalancer addresses answer from
// the host.
func (m *Manager) installLoadBalancer(ctx context.Context, name string, cs kubernetes.Interface) error {
	ns, err := m.provider.ListNodes(name)
	if err != nil || len(ns) == 0 {
		return fmt.Errorf("list nodes of %s: %v", name, err)
	}
	node := ns[0]
	if err := node.CommandContext(ctx, "test", "-f", images.MetalLBManifest).Run(); err != nil {
		m.debug("node image has no " + images.MetalLBManifest + ": LoadBalancer Services will stay <pending>")
		return nil
	}
	start := time.Now()
	// MetalLB's containers reach the API server on the node's own address (the
	// node image's manifest says so), so they need not wait for kube-proxy.
	cert, err := metallbWebhookCert(time.Now())
	if err != nil {
		return fmt.Errorf("MetalLB webhook certificate: %w", err)
	}
	if err := createMetalLBWebhookCert(ctx, cs, cert); err != nil {
		return fmt.Errorf("MetalLB webhook certificate: %w", err)
	}
	if err := nodeKubectl(ctx, node, "", "apply", "--server-side", "--force-conflicts", "-f", images.MetalLBManifest); err != nil {
		return fmt.Errorf("apply MetalLB: %w", err)
	}
	m.debug(fmt.Sprintf("MetalLB manifest applied after %s", time.Since(start).Round(100*time.Millisecond)))
	// Only the controller gates the pool (its webhook validates it); the speaker
	// announces addresses once it is up, and a Service's address waits for it anyway.
	if err := waitPodsReady(ctx, cs, metallbNamespace, "component=controller", 1, 3*time.Minute); err != nil {
		return fmt.Errorf("MetalLB: %w", err)
	}
	m.debug(fmt.Sprintf("MetalLB controller Ready after %s", time.Since(start).Round(100*time.Millisecond)))
	pool, err := m.addressPool(ctx, name)
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: kindlab
  namespace: %[1]s
spec:
  addresses:
  - %[2]s
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: kindlab
  namespace: %[1]s
spec:
  ipAddressPools:
  - kindlab
`, metallbNamespace, pool)
	// The webhook that validates pools answers a moment after its pod is Ready.
	var last error
	err = wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		last = nodeKubectl(ctx, node, cfg, "apply", "-f", "-")
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("configure MetalLB address pool %s: %v (last: %v)", pool, err, last)
	}
	m.debug(fmt.Sprintf("MetalLB address pool %s configured after %s", pool, time.Since(start).Round(100*time.Millisecond)))
	return nil
}

func nodeKubectl(ctx context.Context, node nodes.Node, stdin string, args ...string) error {
	cmd := node.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig=/etc/kubernetes/admin.conf"}, args...)...)
	if stdin != "" {
		cmd.SetStdin(strings.NewReader(stdin))
	}
	var out strings.Builder
	cmd.SetStdout(&out)
	cmd.SetStderr(&out)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// addressPool is a range near the top of the kind network's IPv4 subnet, its own
// for each cluster on the network: clusters share the kind network, and two
// MetalLBs announcing one address would answer for each other's Services.
func (m *Manager) addressPool(ctx context.Context, name string) (string, error) {
	out, err := m.run.Output(ctx, "docker", "network", "inspect", "kind", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}")
	if err != nil {
		return "", fmt.Errorf("inspect the kind network: %w", err)
	}
	node, err := m.NodeAddress(ctx, name)
	if err != nil {
		return "", err
	}
	for _, s := range strings.Fields(out) {
		if r, ok := poolFor(s, net.ParseIP(node)); ok {
			return r, nil
		}
	}
	return "", fmt.Errorf("the kind network has no IPv4 subnet (%q)", out)
}

// poolFor returns the cluster's address pool in an IPv4 subnet. In a subnet of at
// least /20 (kind's is a /16) each cluster gets 30 addresses of its own, block k
// of 32 from the top for the node at offset k from the subnet's base (Docker hands
// out node addresses from the bottom, unique on the network), leaving out the
// block's first and last address so that none ends in .0 or .255. In a smaller subnet the
// one pool is the 51 addresses ending 5 below the broadcast address.
func poolFor(cidr string, node net.IP) (string, bool) {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil || n.IP.To4() == nil {
		return "", false
	}
	ones, _ := n.Mask.Size()
	if ones > 24 {
		return "", false
	}
	base := binary.BigEndian.Uint32(n.IP.To4())
	last := base | ^binary.BigEndian.Uint32(net.IP(n.Mask).To4())
	ip := func(v uint32) string {
		b := make(net.IP, 4)
		binary.BigEndian.PutUint32(b, v)
		return b.String()
	}
	if v4 := node.To4(); v4 != nil && ones <= 20 && n.Contains(v4) {
		off := binary.BigEndian.Uint32(v4) - base
		// Blocks stay in the top eighth of the subnet, far above the nodes.
		if off >= 1 && 32*off < (last-base)/8 {
			hi := last - 32*(off-1) - 1
			return ip(hi-29) + "-" + ip(hi), true
		}
	}
	return ip(last-55) + "-" + ip(last-5), true
}

// waitPodsReady waits until at least min pods matching selector exist in ns and
// all are Ready.
func waitPodsReady(ctx context.Context, cs kubernetes.Interface, ns, selector string, min int, timeout time.Duration) error {
	var problems []string
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil
		}
		problems = problems[:0]
		for i := range pods.Items {
			if !kube.PodReady(&pods.Items[i]) {
				problems = append(problems, pods.Items[i].Name+" ("+kube.PodProblem(&pods.Items[i])+")")
			}
		}
		return len(pods.Items) >= min && len(problems) == 0, nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("pods in %s not Ready after %s: %s", ns, timeout, strings.Join(problems, "; "))
	}
	return err
}
