package cluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/cluster/nodes"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
)

const metallbNamespace = "metallb-system"

// metalLB is MetalLB ready to apply: its objects, its webhook's certificate and
// the address pool.
type metalLB struct {
	objs, pool []*unstructured.Unstructured
	cert       map[string][]byte
	poolRange  string
}

// prepareLoadBalancer prepares MetalLB (shipped in kindlab's node image) in L2 mode
// with an address pool at the top of the kind Docker network, away from the node
// addresses Docker hands out from the bottom, so LoadBalancer addresses answer from
// the host. It reads and computes; applyLoadBalancer changes the cluster. It
// returns nil when the node image has no MetalLB.
func (m *Manager) prepareLoadBalancer(ctx context.Context, name string, node nodes.Node) (*metalLB, error) {
	manifest, err := readNodeFile(ctx, node, images.MetalLBManifest)
	if errors.Is(err, errNodeFileMissing) {
		m.debug("node image has no " + images.MetalLBManifest + ": LoadBalancer Services will stay <pending>")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// MetalLB's containers reach the API server on the node's own address (the
	// node image's manifest says so), so they need not wait for kube-proxy.
	cert, err := metallbWebhookCert(time.Now())
	if err != nil {
		return nil, fmt.Errorf("webhook certificate: %w", err)
	}
	objs, err := kube.Objects(manifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", images.MetalLBManifest, err)
	}
	if err := prepareMetalLB(objs, cert["ca.crt"]); err != nil {
		return nil, err
	}
	poolRange, err := m.addressPool(ctx, name)
	if err != nil {
		return nil, err
	}
	pool, err := kube.Objects([]byte(fmt.Sprintf(`apiVersion: metallb.io/v1beta1
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
`, metallbNamespace, poolRange)))
	if err != nil {
		return nil, err
	}
	return &metalLB{objs: objs, pool: pool, cert: cert, poolRange: poolRange}, nil
}

// applyLoadBalancer installs the prepared MetalLB.
func (m *Manager) applyLoadBalancer(ctx context.Context, ap *kube.Applier, cs kubernetes.Interface, lb *metalLB) error {
	return m.step(ctx, "Installing the load balancer (MetalLB)", func() error {
		start := time.Now()
		if err := createMetalLBWebhookCert(ctx, cs, lb.cert); err != nil {
			return fmt.Errorf("webhook certificate: %w", err)
		}
		// The pool goes in before MetalLB's admission webhook is registered: it is
		// kindlab's own and valid, and need not wait for MetalLB's controller to
		// start and for kube-proxy to route the API server to its webhook. The
		// controller finds it when it starts.
		var defs, rest []*unstructured.Unstructured
		for _, u := range lb.objs {
			if k := u.GetKind(); k == "Namespace" || k == "CustomResourceDefinition" {
				defs = append(defs, u)
			} else {
				rest = append(rest, u)
			}
		}
		if err := ap.ApplyObjects(ctx, slices.Concat(defs, lb.pool, rest), 2*time.Minute); err != nil {
			return err
		}
		if err := createMemberlistSecret(ctx, cs); err != nil {
			return fmt.Errorf("memberlist secret: %w", err)
		}
		m.debug(fmt.Sprintf("MetalLB and its address pool %s applied after %s", lb.poolRange, time.Since(start).Round(100*time.Millisecond)))
		return nil
	})
}

// createMemberlistSecret makes the secret MetalLB's speakers share, as MetalLB's
// controller does when it starts (16 random bytes, owned by the controller's
// Deployment). The speaker's pod cannot start without it, and the kubelet retries
// a missing secret with growing pauses: the speaker started up to 9 s after it.
func createMemberlistSecret(ctx context.Context, cs kubernetes.Interface) error {
	d, err := cs.AppsV1().Deployments(metallbNamespace).Get(ctx, "controller", metav1.GetOptions{})
	if err != nil {
		return err
	}
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	sec := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:            "memberlist",
			Namespace:       metallbNamespace,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID}},
		},
		Data: map[string][]byte{"secretkey": []byte(base64.RawStdEncoding.EncodeToString(key))},
	}
	_, err = cs.CoreV1().Secrets(metallbNamespace).Create(ctx, sec, metav1.CreateOptions{FieldManager: kube.FieldManager})
	if apierrors.IsAlreadyExists(err) {
		return nil // the controller was quicker
	}
	return err
}

// prepareMetalLB readies MetalLB's objects for a cluster being created:
//   - its webhooks (admission, and the CRD conversion) trust the CA of the
//     certificate kindlab made (createMetalLBWebhookCert): the controller finds them
//     so at its start instead of patching them then, each patch of a definition
//     costing the starting API server CPU;
//   - its controller tolerates the control-plane taint that kubeadm puts on the
//     node for the seconds before kind lifts it (its speaker already does).
func prepareMetalLB(objs []*unstructured.Unstructured, caPEM []byte) error {
	ca := base64.StdEncoding.EncodeToString(caPEM)
	for _, u := range objs {
		var err error
		switch {
		case u.GetKind() == "ValidatingWebhookConfiguration":
			hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
			for _, h := range hooks {
				if hm, ok := h.(map[string]any); ok {
					if err = unstructured.SetNestedField(hm, ca, "clientConfig", "caBundle"); err != nil {
						break
					}
				}
			}
			if err == nil {
				err = unstructured.SetNestedSlice(u.Object, hooks, "webhooks")
			}
		case u.GetKind() == "CustomResourceDefinition":
			if _, ok, _ := unstructured.NestedMap(u.Object, "spec", "conversion", "webhook", "clientConfig"); ok {
				err = unstructured.SetNestedField(u.Object, ca, "spec", "conversion", "webhook", "clientConfig", "caBundle")
			}
		case u.GetKind() == "Deployment" && u.GetNamespace() == metallbNamespace:
			tols, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "tolerations")
			tols = append(tols, map[string]any{"key": ControlPlaneRoleLabel, "operator": "Exists", "effect": "NoSchedule"})
			if err = unstructured.SetNestedSlice(u.Object, tols, "spec", "template", "spec", "tolerations"); err == nil {
				err = noCertRotation(u)
			}
		}
		if err != nil {
			return fmt.Errorf("MetalLB %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	return nil
}

// noCertRotation starts MetalLB's controller with --disable-cert-rotation. Its
// rotator would only confirm what kindlab already did (the webhook's certificate,
// valid ten years, and the CA in every webhook and conversion), but the controller
// served its metrics, which its readiness probe reads, only once the rotator had
// seen all nine objects through its informers: 1.5 s after it started, on a new
// cluster.
func noCertRotation(deploy *unstructured.Unstructured) error {
	containers, _, err := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "containers")
	if err != nil {
		return err
	}
	for _, c := range containers {
		cm, ok := c.(map[string]any)
		if !ok || cm["name"] != "controller" {
			continue
		}
		args, _, _ := unstructured.NestedStringSlice(cm, "args")
		if !slices.Contains(args, "--disable-cert-rotation") {
			if err := unstructured.SetNestedStringSlice(cm, append(args, "--disable-cert-rotation"), "args"); err != nil {
				return err
			}
		}
		return unstructured.SetNestedSlice(deploy.Object, containers, "spec", "template", "spec", "containers")
	}
	return fmt.Errorf("no container named controller")
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
