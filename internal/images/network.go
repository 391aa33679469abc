package images

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/kindlab/kindlab/internal/runner"
)

// The pod network: flannel routes between the nodes' pod subnets (VXLAN), the
// reference CNI plugins attach pods, and kindlab's flannelcni tells the bridge
// plugin which subnet is the node's (flannel's own CNI plugin is not served by
// the module proxy).
const (
	// FlannelVersion is flanneld's module version (github.com/flannel-io/flannel).
	FlannelVersion = "v0.28.10"
	// FlannelImage is flanneld's image, built here; its DaemonSet is
	// files/default-cni.yaml.
	FlannelImage = "kindlab/flannel:" + FlannelVersion
	// CNIPluginsVersion is the reference CNI plugins' module version
	// (github.com/containernetworking/plugins).
	CNIPluginsVersion = "v1.10.0"
	// CNIConfigPath is the node's CNI configuration, in the node image from the start.
	CNIConfigPath = "/etc/cni/net.d/10-kindlab.conflist"
)

// cniPlugins are the reference plugins a node needs, by package under
// github.com/containernetworking/plugins/plugins.
var cniPlugins = []string{"main/bridge", "ipam/host-local", "meta/portmap", "main/loopback"}

// flannelBackends are the flannel backends kindlab's flanneld links. flannel's main
// links eight more (clouds' VPC routes, IPsec, WireGuard, UDP); one of them needs
// a module the proxy refuses (tencentcloud-sdk-go's vpc), and none is used here.
var flannelBackends = []string{"vxlan", "hostgw"}

var flannelBackendImport = regexp.MustCompile(`(?m)^\s*_ "github.com/flannel-io/flannel/pkg/backend/([a-z0-9]+)"\n`)

// buildFlannel builds flanneld from flannel's module with only flannelBackends
// linked: the module's source is copied and its main's backend imports trimmed.
func (b *Builder) buildFlannel(ctx context.Context) error {
	const mod = "github.com/flannel-io/flannel"
	out, err := b.goOutput(ctx, "", "mod", "download", "-json", mod+"@"+FlannelVersion)
	if err != nil {
		return fmt.Errorf("download %s %s: %w", mod, FlannelVersion, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.Dir == "" {
		return fmt.Errorf("go mod download %s: %s", mod, m.Error)
	}
	src := b.dir("src", "flannel-"+FlannelVersion)
	if err := os.RemoveAll(src); err != nil {
		return err
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	// The module cache's files are read-only; os.CopyFS writes writable copies.
	if err := os.CopyFS(filepath.Join(src, "pkg"), os.DirFS(filepath.Join(m.Dir, "pkg"))); err != nil {
		return err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(m.Dir, f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, f), data, 0o644); err != nil {
			return err
		}
	}
	main, err := os.ReadFile(filepath.Join(m.Dir, "main.go"))
	if err != nil {
		return err
	}
	trimmed, err := trimFlannelBackends(string(main))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(trimmed), 0o644); err != nil {
		return err
	}
	return b.goCmd(ctx, src, "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/flannel-io/flannel/pkg/version.Version="+FlannelVersion,
		"-o", b.dir("bin", b.opts.KubernetesVersion, "flanneld"), ".")
}

// trimFlannelBackends removes from flannel's main the imports of backends other
// than flannelBackends, and fails if one of those is not there.
func trimFlannelBackends(main string) (string, error) {
	found := map[string]bool{}
	out := flannelBackendImport.ReplaceAllStringFunc(main, func(line string) string {
		name := flannelBackendImport.FindStringSubmatch(line)[1]
		for _, keep := range flannelBackends {
			if name == keep {
				found[name] = true
				return line
			}
		}
		return ""
	})
	for _, keep := range flannelBackends {
		if !found[keep] {
			return "", fmt.Errorf("flannel's main.go does not import the %s backend any more", keep)
		}
	}
	return out, nil
}

// buildCNIPlugins builds the reference CNI plugins into bin/<version>/cni/.
func (b *Builder) buildCNIPlugins(ctx context.Context) error {
	gobin, err := os.MkdirTemp(b.dir("tmp"), "gobin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(gobin)
	args := []string{"install", "-trimpath", "-ldflags=-s -w"}
	for _, p := range cniPlugins {
		args = append(args, "github.com/containernetworking/plugins/plugins/"+p+"@"+CNIPluginsVersion)
	}
	if err := b.run.Do(ctx, runner.Cmd{Name: "go", Args: args, Env: append([]string{"GOBIN=" + gobin}, goEnv[0], goEnv[2])}); err != nil {
		return err
	}
	dir := b.dir("bin", b.opts.KubernetesVersion, "cni")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range cniPlugins {
		name := filepath.Base(p)
		if err := os.Rename(filepath.Join(gobin, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// cniConfig is the node's CNI configuration: flannelcni, which hands the bridge
// plugin the node's flannel subnet, then portmap for hostPort.
func cniConfig() string {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "kindlab",
		"plugins": []any{
			map[string]any{
				"type":     "flannelcni",
				"delegate": map[string]any{"hairpinMode": true, "isDefaultGateway": true},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	out, _ := json.MarshalIndent(conf, "", "  ")
	return string(out) + "\n"
}

// cniPluginPaths are the files the node image needs in /opt/cni/bin.
func (b *Builder) cniPluginPaths() []string {
	bin := b.dir("bin", b.opts.KubernetesVersion)
	paths := []string{filepath.Join(bin, "flannelcni")}
	for _, p := range cniPlugins {
		paths = append(paths, filepath.Join(bin, "cni", filepath.Base(p)))
	}
	return paths
}

// flannelDockerfile runs flanneld on the kube-proxy base, which has the iptables
// programs it calls.
func flannelDockerfile() string {
	return "FROM " + kubeProxyBase + "\nCOPY flanneld /opt/bin/flanneld\nENTRYPOINT [\"/opt/bin/flanneld\"]\n"
}

// flannelManifest fills the image name into the DaemonSet's manifest.
func flannelManifest(tmpl string) string {
	return strings.ReplaceAll(tmpl, "@FLANNEL_IMAGE@", ContainerdName(FlannelImage))
}
