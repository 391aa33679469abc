package cluster

import (
	"net"
	"strings"
	"testing"
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
