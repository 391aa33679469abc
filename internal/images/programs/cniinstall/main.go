// Command cniinstall writes a single-node CNI configuration (ptp + host-local +
// portmap) for the given pod subnet into the node's CNI directory, then waits until
// it is stopped. It runs as kindlab's default CNI DaemonSet; with --once it only
// writes the file (the image build puts one in the node image).
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	subnet := flag.String("subnet", "10.244.0.0/16", "pod subnet")
	dir := flag.String("dir", "/host/etc/cni/net.d", "CNI configuration directory")
	once := flag.Bool("once", false, "write the configuration and exit")
	flag.Parse()
	if _, _, err := net.ParseCIDR(*subnet); err != nil {
		log.Fatalf("bad --subnet %q: %v", *subnet, err)
	}
	conf := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "kindlab",
		"plugins": []any{
			map[string]any{
				"type":   "ptp",
				"ipMasq": true,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": [][]map[string]string{{{"subnet": *subnet}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
				"mtu": 1500,
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	b, _ := json.MarshalIndent(conf, "", "  ")
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(*dir, "10-kindlab.conflist")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s for pod subnet %s", path, *subnet)
	if *once {
		return
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	<-sigs
}
