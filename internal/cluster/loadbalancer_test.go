package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kindlab/kindlab/internal/kube"
)

func TestPoolFor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ cidr, node, want string }{
		// kind's /16: each node address gets its own block of 31 from the top.
		{"172.18.0.0/16", "172.18.0.2", "172.18.255.193-172.18.255.222"},
		{"172.18.0.0/16", "172.18.0.3", "172.18.255.161-172.18.255.190"},
		{"172.18.0.0/16", "172.18.0.1", "172.18.255.225-172.18.255.254"},
		{"172.18.0.0/16", "172.18.0.8", "172.18.255.1-172.18.255.30"},
		// No node known, a node outside the subnet, or a small subnet: the one pool.
		{"172.18.0.0/16", "", "172.18.255.200-172.18.255.250"},
		{"172.18.0.0/16", "10.0.0.2", "172.18.255.200-172.18.255.250"},
		{"192.168.49.0/24", "192.168.49.2", "192.168.49.200-192.168.49.250"},
	} {
		if got, ok := poolFor(c.cidr, net.ParseIP(c.node)); !ok || got != c.want {
			t.Errorf("poolFor(%s, %s) = %q, %v; want %q", c.cidr, c.node, got, ok, c.want)
		}
	}
	// Two clusters never share an address.
	seen := map[string]string{}
	for i := 2; i < 200; i++ {
		node := net.IPv4(172, 18, 0, byte(i))
		r, _ := poolFor("172.18.0.0/16", node)
		if prev, ok := seen[r]; ok {
			t.Fatalf("nodes %s and %s share pool %s", prev, node, r)
		}
		seen[r] = node.String()
		if strings.HasSuffix(r, ".0") || strings.Contains(r, ".0-") || strings.Contains(r, ".255-") || strings.HasSuffix(r, ".255") {
			t.Errorf("pool %s for %s has an address ending in .0 or .255", r, node)
		}
	}
	for _, bad := range []string{"fc00:f853:ccd:e793::/64", "10.0.0.0/28", "nonsense"} {
		if got, ok := poolFor(bad, nil); ok {
			t.Errorf("poolFor(%s) = %q; want none", bad, got)
		}
	}
}

func TestMetalLBWebhookCertVerifies(t *testing.T) {
	now := time.Now()
	data, err := metallbWebhookCert(now)
	if err != nil {
		t.Fatal(err)
	}
	secret := struct{ Data map[string][]byte }{data}
	for _, k := range []string{"ca.crt", "ca.key", "tls.crt", "tls.key"} {
		if len(secret.Data[k]) == 0 {
			t.Fatalf("secret lacks %s", k)
		}
	}
	cs := fake.NewClientset()
	if err := createMetalLBWebhookCert(context.Background(), cs, data); err != nil {
		t.Fatal(err)
	}
	if got, err := cs.CoreV1().Secrets("metallb-system").Get(context.Background(), "metallb-webhook-cert", metav1.GetOptions{}); err != nil || len(got.Data["ca.crt"]) == 0 {
		t.Fatalf("secret not created: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(secret.Data["ca.crt"]) {
		t.Fatal("ca.crt is not a PEM certificate")
	}
	// Both as MetalLB's rotator checks them: valid for their DNS name 90 days ahead,
	// each key pairing with its certificate. The CA is verified by itself for the
	// name "cert" (validCACert); otherwise the rotator replaces both on first
	// start, racing itself.
	for _, c := range []struct{ crt, key, dnsName string }{
		{"tls.crt", "tls.key", "metallb-webhook-service.metallb-system.svc"},
		{"ca.crt", "ca.key", "cert"},
	} {
		block, _ := pem.Decode(secret.Data[c.crt])
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: c.dnsName, Roots: pool, CurrentTime: now.AddDate(0, 0, 90)}); err != nil {
			t.Errorf("%s does not verify for %s: %v", c.crt, c.dnsName, err)
		}
		if _, err := tls.X509KeyPair(secret.Data[c.crt], secret.Data[c.key]); err != nil {
			t.Errorf("%s and %s do not pair: %v", c.crt, c.key, err)
		}
	}
}

func TestPrepareMetalLB(t *testing.T) {
	t.Parallel()
	objs, err := kube.Objects([]byte(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: bgppeers.metallb.io
spec:
  conversion:
    strategy: Webhook
    webhook:
      clientConfig:
        service: {name: metallb-webhook-service, namespace: metallb-system, path: /convert}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ipaddresspools.metallb.io
spec:
  group: metallb.io
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: metallb-webhook-configuration
webhooks:
- name: a.metallb.io
  clientConfig:
    service: {name: metallb-webhook-service, namespace: metallb-system, path: /a}
- name: b.metallb.io
  clientConfig:
    service: {name: metallb-webhook-service, namespace: metallb-system, path: /b}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller
  namespace: metallb-system
spec:
  template:
    spec:
      containers: [{name: controller, image: c, args: [--port=7472]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := prepareMetalLB(objs, []byte("CA PEM")); err != nil {
		t.Fatal(err)
	}
	want := base64.StdEncoding.EncodeToString([]byte("CA PEM"))
	got, _, _ := unstructured.NestedString(objs[0].Object, "spec", "conversion", "webhook", "clientConfig", "caBundle")
	if got != want {
		t.Errorf("conversion webhook caBundle = %q, want %q", got, want)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(objs[1].Object, "spec", "conversion"); found {
		t.Errorf("a definition without a conversion webhook got one: %v", objs[1].Object)
	}
	hooks, _, _ := unstructured.NestedSlice(objs[2].Object, "webhooks")
	for _, h := range hooks {
		if got, _, _ := unstructured.NestedString(h.(map[string]any), "clientConfig", "caBundle"); got != want {
			t.Errorf("webhook %v: caBundle %q, want %q", h, got, want)
		}
	}
	tols, _, _ := unstructured.NestedSlice(objs[3].Object, "spec", "template", "spec", "tolerations")
	if len(tols) != 1 || tols[0].(map[string]any)["key"] != "node-role.kubernetes.io/control-plane" {
		t.Errorf("controller tolerations = %v", tols)
	}
	containers, _, _ := unstructured.NestedSlice(objs[3].Object, "spec", "template", "spec", "containers")
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	if strings.Join(args, " ") != "--port=7472 --disable-cert-rotation" {
		t.Errorf("controller args = %q", args)
	}
}

func TestAPIAddress(t *testing.T) {
	t.Parallel()
	for out, want := range map[string]string{
		"127.0.0.1:40123\n":               "127.0.0.1:40123",
		"0.0.0.0:40123\n[::]:40123\n":     "127.0.0.1:40123",
		"[::]:40123\n":                    "[::1]:40123",
		"192.168.1.5:6443":                "192.168.1.5:6443",
		"":                                "",
		"Error: No public port published": "",
	} {
		if got := apiAddress(out); got != want {
			t.Errorf("apiAddress(%q) = %q, want %q", out, got, want)
		}
	}
}

func TestCreateMemberlistSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := fake.NewClientset(&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "controller", Namespace: metallbNamespace, UID: "uid-1"}})
	if err := createMemberlistSecret(ctx, cs); err != nil {
		t.Fatal(err)
	}
	sec, err := cs.CoreV1().Secrets(metallbNamespace).Get(ctx, "memberlist", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if key := sec.Data["secretkey"]; len(key) != 22 { // 16 bytes, base64 without padding
		t.Errorf("secretkey %q: want 22 characters", key)
	}
	if o := sec.OwnerReferences; len(o) != 1 || o[0].UID != "uid-1" || o[0].Kind != "Deployment" {
		t.Errorf("owner references = %v", o)
	}
	// The controller made it first: nothing to do, no error.
	if err := createMemberlistSecret(ctx, cs); err != nil {
		t.Errorf("second call: %v", err)
	}
}
