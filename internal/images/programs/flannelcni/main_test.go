package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDelegateConfUsesTheNodesSubnet(t *testing.T) {
	t.Parallel()
	conf := netConf{CNIVersion: "1.0.0", Name: "kindlab", Delegate: map[string]any{"isDefaultGateway": true}}
	env := map[string]string{"FLANNEL_NETWORK": "10.244.0.0/16", "FLANNEL_SUBNET": "10.244.2.1/24", "FLANNEL_MTU": "1450", "FLANNEL_IPMASQ": "true"}
	out, err := delegateConf(conf, env)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Type             string `json:"type"`
		Name             string `json:"name"`
		IsGateway        bool   `json:"isGateway"`
		IsDefaultGateway bool   `json:"isDefaultGateway"`
		IPMasq           bool   `json:"ipMasq"`
		MTU              int    `json:"mtu"`
		IPAM             struct {
			Ranges [][]map[string]string `json:"ranges"`
			Routes []map[string]string   `json:"routes"`
		} `json:"ipam"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatal(err)
	}
	if d.Type != "bridge" || d.Name != "kindlab" || !d.IsGateway || !d.IsDefaultGateway || d.IPMasq || d.MTU != 1450 {
		t.Errorf("delegate = %s", out)
	}
	if got := d.IPAM.Ranges[0][0]["subnet"]; got != "10.244.2.0/24" {
		t.Errorf("subnet = %q, want the network of flanneld's 10.244.2.1/24", got)
	}
	if got := d.IPAM.Routes[0]["dst"]; got != "10.244.0.0/16" {
		t.Errorf("route = %q", got)
	}
	if _, err := delegateConf(conf, map[string]string{"FLANNEL_NETWORK": "10.244.0.0/16", "FLANNEL_SUBNET": "nonsense"}); err == nil {
		t.Error("a subnet that is not one must be refused")
	}
}

func TestWaitSubnetWaitsForFlanneld(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "subnet.env")
	go func() {
		time.Sleep(200 * time.Millisecond)
		os.WriteFile(path+".tmp", []byte("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\n"), 0o644)
		os.Rename(path+".tmp", path)
	}()
	env, err := waitSubnet(path, 5*time.Second)
	if err != nil || env["FLANNEL_SUBNET"] != "10.244.0.1/24" {
		t.Fatalf("env = %v, %v", env, err)
	}
	if _, err := waitSubnet(filepath.Join(t.TempDir(), "none"), 300*time.Millisecond); err == nil {
		t.Error("no file: want an error that names flannel's pod")
	}
}
