// Command flannelcni is the CNI plugin of kindlab's pod network: it attaches a pod
// to the node's flannel subnet by handing the reference `bridge` plugin (with
// `host-local` addresses) a configuration built from what flanneld wrote in
// /run/flannel/subnet.env. flanneld routes between the nodes' subnets; this
// plugin only says which subnet is this node's. It is what flannel's own CNI
// plugin does, which the module proxy does not serve.
//
// The node image holds its configuration from the start, so a node is Ready as
// soon as its kubelet registers; a pod started before flanneld has written its
// file waits here for it (up to wait seconds) instead of failing and being
// retried later.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// netConf is this plugin's part of the network configuration.
type netConf struct {
	CNIVersion string          `json:"cniVersion"`
	Name       string          `json:"name"`
	SubnetFile string          `json:"subnetFile"`
	DataDir    string          `json:"dataDir"`
	Wait       int             `json:"waitSeconds"`
	Delegate   map[string]any  `json:"delegate"`
	PrevResult json.RawMessage `json:"prevResult,omitempty"`
}

func main() {
	if err := run(os.Getenv("CNI_COMMAND")); err != nil {
		// The CNI error format, on stdout, with a non-zero exit.
		out, _ := json.Marshal(map[string]any{"cniVersion": "1.0.0", "code": 999, "msg": err.Error()})
		os.Stdout.Write(out)
		os.Exit(1)
	}
}

func run(command string) error {
	switch command {
	case "VERSION":
		_, err := os.Stdout.WriteString(`{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}`)
		return err
	case "ADD", "DEL", "CHECK":
	case "GC", "STATUS":
		return nil
	default:
		return fmt.Errorf("unknown CNI_COMMAND %q", command)
	}
	stdin, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	var conf netConf
	if err := json.Unmarshal(stdin, &conf); err != nil {
		return fmt.Errorf("network configuration: %w", err)
	}
	if conf.SubnetFile == "" {
		conf.SubnetFile = "/run/flannel/subnet.env"
	}
	if conf.DataDir == "" {
		conf.DataDir = "/var/lib/cni/kindlab-flannel"
	}
	if conf.Wait <= 0 {
		conf.Wait = 120
	}
	id := os.Getenv("CNI_CONTAINERID")
	if id == "" || strings.ContainsAny(id, "/\\") || id == "." || id == ".." {
		return fmt.Errorf("bad CNI_CONTAINERID %q", id)
	}
	saved := filepath.Join(conf.DataDir, id)

	switch command {
	case "ADD":
		env, err := waitSubnet(conf.SubnetFile, time.Duration(conf.Wait)*time.Second)
		if err != nil {
			return err
		}
		delegate, err := delegateConf(conf, env)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(conf.DataDir, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(saved, delegate, 0o600); err != nil {
			return err
		}
		return invoke(delegate)
	case "CHECK":
		delegate, err := os.ReadFile(saved)
		if err != nil {
			return fmt.Errorf("no configuration kept for container %s: %w", id, err)
		}
		if conf.PrevResult != nil {
			var d map[string]any
			if err := json.Unmarshal(delegate, &d); err != nil {
				return err
			}
			d["prevResult"] = conf.PrevResult
			if delegate, err = json.Marshal(d); err != nil {
				return err
			}
		}
		return invoke(delegate)
	default: // DEL: nothing kept means nothing was set up (or it is already gone).
		delegate, err := os.ReadFile(saved)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := invoke(delegate); err != nil {
			return err
		}
		return os.Remove(saved)
	}
}

// waitSubnet reads flanneld's subnet file, waiting up to wait for it to appear
// with the keys a pod's configuration needs.
func waitSubnet(path string, wait time.Duration) (map[string]string, error) {
	deadline := time.Now().Add(wait)
	for {
		env, err := readEnv(path)
		if err == nil && env["FLANNEL_SUBNET"] != "" && env["FLANNEL_NETWORK"] != "" {
			return env, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("FLANNEL_SUBNET or FLANNEL_NETWORK missing")
			}
			return nil, fmt.Errorf("flannel has not given this node a subnet (%s: %v); is the kube-flannel pod of this node running? (kubectl -n kube-system get pods -o wide)", path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(s.Text()), "="); ok {
			env[k] = v
		}
	}
	return env, s.Err()
}

// delegateConf is the bridge plugin's configuration for this node's subnet: the
// pod's default route goes through the bridge, addresses come from the subnet,
// and the bridge masquerades only when flanneld does not.
func delegateConf(conf netConf, env map[string]string) ([]byte, error) {
	d := map[string]any{}
	for k, v := range conf.Delegate {
		d[k] = v
	}
	d["cniVersion"] = conf.CNIVersion
	d["name"] = conf.Name
	if _, ok := d["type"]; !ok {
		d["type"] = "bridge"
	}
	if _, ok := d["isGateway"]; !ok {
		d["isGateway"] = true
	}
	if _, ok := d["ipMasq"]; !ok {
		d["ipMasq"] = env["FLANNEL_IPMASQ"] != "true"
	}
	if mtu := env["FLANNEL_MTU"]; mtu != "" {
		n, err := strconv.Atoi(mtu)
		if err != nil {
			return nil, fmt.Errorf("FLANNEL_MTU %q: %w", mtu, err)
		}
		d["mtu"] = n
	}
	// flanneld writes the node's subnet by its gateway address (10.244.1.1/24);
	// host-local wants the network (10.244.1.0/24).
	_, subnet, err := net.ParseCIDR(env["FLANNEL_SUBNET"])
	if err != nil {
		return nil, fmt.Errorf("FLANNEL_SUBNET: %w", err)
	}
	_, network, err := net.ParseCIDR(env["FLANNEL_NETWORK"])
	if err != nil {
		return nil, fmt.Errorf("FLANNEL_NETWORK: %w", err)
	}
	d["ipam"] = map[string]any{
		"type":   "host-local",
		"ranges": [][]map[string]string{{{"subnet": subnet.String()}}},
		"routes": []map[string]string{{"dst": network.String()}},
	}
	return json.Marshal(d)
}

// invoke runs the delegate plugin with the same CNI environment and conf as its
// input, and passes its output (the result, or its error) on.
func invoke(conf []byte) error {
	var d struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(conf, &d); err != nil {
		return err
	}
	if d.Type == "" || strings.ContainsAny(d.Type, "/\\") {
		return fmt.Errorf("bad delegate type %q", d.Type)
	}
	path, err := findPlugin(d.Type)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	cmd := exec.Command(path)
	cmd.Stdin = bytes.NewReader(conf)
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	runErr := cmd.Run()
	if _, err := os.Stdout.Write(out.Bytes()); err != nil {
		return err
	}
	if runErr != nil {
		// The delegate's own error is already on stdout in CNI's format.
		os.Exit(1)
	}
	return nil
}

func findPlugin(name string) (string, error) {
	for _, dir := range filepath.SplitList(os.Getenv("CNI_PATH")) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("CNI plugin %q not found in CNI_PATH %q", name, os.Getenv("CNI_PATH"))
}
