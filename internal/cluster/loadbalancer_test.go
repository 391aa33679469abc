package cluster

import "testing"

func TestPoolFor(t *testing.T) {
	t.Parallel()
	for cidr, want := range map[string]string{
		"172.18.0.0/16":   "172.18.255.200-172.18.255.250",
		"192.168.49.0/24": "192.168.49.200-192.168.49.250",
	} {
		if got, ok := poolFor(cidr); !ok || got != want {
			t.Errorf("poolFor(%s) = %q, %v; want %q", cidr, got, ok, want)
		}
	}
	for _, bad := range []string{"fc00:f853:ccd:e793::/64", "10.0.0.0/28", "nonsense"} {
		if got, ok := poolFor(bad); ok {
			t.Errorf("poolFor(%s) = %q; want none", bad, got)
		}
	}
}
