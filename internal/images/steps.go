package images

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
)

//go:embed programs files
var embedded embed.FS

// kindModule is the kind library this binary was built with; its base image files
// are read from that module, never copied into this repository.
const kindModule = "sigs.k8s.io/kind"

func kindVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == kindModule {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "v0.33.0"
}

// Packages of the two Debian root filesystems.
var (
	nodePackages = []string{
		"systemd", "systemd-sysv", "dbus", "conntrack", "iptables", "nftables", "iproute2", "ethtool",
		"util-linux", "mount", "kmod", "libseccomp2", "pigz", "e2fsprogs", "bash", "ca-certificates",
		"curl", "jq", "procps", "socat", "containerd", "runc", "netbase",
	}
	userlandPackages = []string{
		"bash", "ca-certificates", "curl", "nginx", "bind9-dnsutils", "iproute2", "iputils-ping",
		"procps", "iptables", "conntrack", "ipset", "netbase", "less", "vim-tiny", "wget",
	}
)

func (b *Builder) steps() []step {
	kver := b.opts.KubernetesVersion
	kubeBins := []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubelet", "kubeadm", "kubectl"}
	bin := func(name string) string { return b.dir("bin", kver, name) }
	return []step{
		{
			name:   "kind sources",
			uses:   light,
			always: true,
			build:  b.findKind,
		},
		{
			name:   "kubernetes binaries",
			uses:   compile,
			inputs: func() []string { return kubeBins },
			present: func(context.Context) bool {
				for _, n := range kubeBins {
					if !exists(bin(n)) {
						return false
					}
				}
				return true
			},
			build: b.buildKubernetes,
		},
		{
			name:   "kubeadm image list",
			uses:   light,
			after:  []string{"kubernetes binaries"},
			always: true,
			build:  b.listKubeadmImages,
		},
		{
			name:    "etcd",
			uses:    compile,
			after:   []string{"kubeadm image list"},
			inputs:  func() []string { return []string{b.kubeadmImage("etcd")} },
			present: func(context.Context) bool { return exists(bin("etcd")) },
			build:   b.buildEtcd,
		},
		{
			name:  "coredns",
			uses:  compile,
			after: []string{"kubeadm image list"},
			inputs: func() []string {
				return []string{b.kubeadmImage("coredns"), "plugins", hashStrings(slices.Sorted(maps.Values(corednsPlugins)))}
			},
			present: func(context.Context) bool { return exists(bin("coredns")) },
			build: func(ctx context.Context) error {
				return b.buildCoreDNS(ctx, tagOf(b.kubeadmImage("coredns")))
			},
		},
		{
			name:    "crictl",
			uses:    compile,
			after:   []string{"kind sources"},
			inputs:  func() []string { return []string{b.crictlVersion()} },
			present: func(context.Context) bool { return exists(bin("crictl")) },
			build: func(ctx context.Context) error {
				return b.goInstall(ctx, "sigs.k8s.io/cri-tools/cmd/crictl@"+b.crictlVersion(), bin("crictl"))
			},
		},
		{
			name:    "local-path provisioner",
			uses:    compile,
			inputs:  func() []string { return []string{LocalPathVersion} },
			present: func(context.Context) bool { return exists(bin("local-path-provisioner")) },
			build: func(ctx context.Context) error {
				return b.goInstall(ctx, "github.com/rancher/local-path-provisioner@"+LocalPathVersion, bin("local-path-provisioner"))
			},
		},
		{
			name:   "metallb",
			uses:   compile,
			inputs: func() []string { return []string{MetalLBVersion, "quick-readiness-0", "api-from-host-ip"} },
			present: func(context.Context) bool {
				return exists(bin("controller"), bin("speaker"), b.dir("src", "metallb-native.yaml"))
			},
			build: b.buildMetalLB,
		},
		{
			name:    "registry",
			uses:    compile,
			inputs:  func() []string { return []string{RegistryVersion, "filesystem-only"} },
			present: func(context.Context) bool { return exists(bin("registry")) },
			build:   b.buildRegistryBinary,
		},
		{
			name:    "flannel",
			uses:    compile,
			inputs:  func() []string { return append([]string{FlannelVersion}, flannelBackends...) },
			present: func(context.Context) bool { return exists(bin("flanneld")) },
			build:   b.buildFlannel,
		},
		{
			name:    "cni plugins",
			uses:    compile,
			inputs:  func() []string { return append([]string{CNIPluginsVersion}, cniPlugins...) },
			present: func(context.Context) bool { return exists(b.cniPluginPaths()[1:]...) },
			build:   b.buildCNIPlugins,
		},
		{
			name:    "kindlab programs",
			uses:    compile,
			inputs:  func() []string { return []string{hashFS(embedded, "programs")} },
			present: func(context.Context) bool { return exists(bin("pause"), bin("echohostname"), bin("flannelcni")) },
			build:   b.buildPrograms,
		},
		{
			name:    "node rootfs",
			uses:    packages,
			inputs:  func() []string { return append([]string{b.mirror()}, nodePackages...) },
			present: func(context.Context) bool { return exists(b.dir("rootfs", "node.tar")) },
			build: func(ctx context.Context) error {
				return b.debootstrap(ctx, "node", nodePackages, nil)
			},
		},
		{
			name:    "userland rootfs",
			uses:    packages,
			inputs:  func() []string { return append([]string{b.mirror()}, userlandPackages...) },
			present: func(context.Context) bool { return exists(b.dir("rootfs", "userland.tar")) },
			build: func(ctx context.Context) error {
				return b.debootstrap(ctx, "userland", userlandPackages, prepareUserland)
			},
		},
		{
			name:  "base image",
			uses:  disk,
			after: []string{"kind sources", "node rootfs", "crictl"},
			inputs: func() []string {
				return []string{b.keyOf("node rootfs"), b.keyOf("crictl"), hashDir(filepath.Join(b.kindDir, "images", "base", "files")), hashFS(embedded, "files")}
			},
			present: b.imagesPresent(baseImage),
			build:   b.buildBase,
		},
		{
			name:    "userland image",
			uses:    disk,
			after:   []string{"userland rootfs"},
			inputs:  func() []string { return []string{b.keyOf("userland rootfs")} },
			present: b.imagesPresent(userlandImage),
			build: func(ctx context.Context) error {
				return b.importRootfs(ctx, b.dir("rootfs", "userland.tar"), userlandImage)
			},
		},
		{
			name:    "kube-proxy base",
			uses:    disk,
			after:   []string{"userland rootfs"},
			inputs:  func() []string { return append([]string{b.keyOf("userland rootfs")}, kubeProxyPrograms...) },
			present: b.imagesPresent(kubeProxyBase),
			build:   b.buildKubeProxyBase,
		},
		{
			name:  "component images",
			uses:  disk,
			after: []string{"kind sources", "kubernetes binaries", "kubeadm image list", "etcd", "coredns", "metallb", "flannel", "kindlab programs", "kube-proxy base", "local-path provisioner", "userland image"},
			inputs: func() []string {
				return append([]string{b.keyOf("kubernetes binaries"), b.keyOf("etcd"), b.keyOf("coredns"), b.keyOf("metallb"), b.keyOf("flannel"), b.keyOf("kindlab programs"),
					b.keyOf("kube-proxy base"), b.keyOf("local-path provisioner"), b.keyOf("userland image"), b.sandboxImage, b.storage.provisioner, b.storage.helper}, b.kubeadmList...)
			},
			present: func(ctx context.Context) bool { return b.imagesPresent(b.componentTags()...)(ctx) },
			build:   b.buildComponents,
		},
		{
			name:  "lab images",
			uses:  disk,
			after: []string{"kindlab programs", "userland image"},
			inputs: func() []string {
				return []string{b.keyOf("kindlab programs"), b.keyOf("userland image"), hashFS(embedded, "files")}
			},
			present: b.imagesPresent(LabImages...),
			build:   b.buildLabImages,
		},
		{
			name:    "registry image",
			uses:    disk,
			after:   []string{"registry"},
			inputs:  func() []string { return []string{b.keyOf("registry"), registryConfig} },
			present: b.imagesPresent(RegistryImage),
			build:   b.buildRegistry,
		},
		{
			name:  "node image",
			uses:  disk,
			after: []string{"kind sources", "base image", "component images", "lab images", "crictl", "cni plugins", "kindlab programs"},
			inputs: func() []string {
				return []string{b.keyOf("base image"), b.keyOf("component images"), b.keyOf("lab images"), b.keyOf("crictl"), b.keyOf("cni plugins"), b.keyOf("kindlab programs"), hashFS(embedded, "files"), cniConfig(),
					strings.Join(nodeFeatures, ","), hashStrings([]string{b.storage.manifest, "api-from-host-ip", "storage-classes-for-kind"}),
					hashStrings(append(append([]string{}, MirrorHosts...), MirrorHostsToml("docker.io", false), MirrorHostsToml(RegistryHostAlias, false)))}
			},
			present: b.imagesPresent(NodeImage(kver)),
			build:   b.buildNode,
		},
	}
}

// findKind locates the kind module's source and reads what later steps need from it.
func (b *Builder) findKind(ctx context.Context) error {
	out, err := b.goOutput(ctx, "", "mod", "download", "-json", kindModule+"@"+kindVersion())
	if err != nil {
		return fmt.Errorf("download %s source (its base image files are needed): %w", kindModule, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.Dir == "" {
		return fmt.Errorf("go mod download %s: %s", kindModule, m.Error)
	}
	b.kindDir = m.Dir
	cfg, err := os.ReadFile(filepath.Join(m.Dir, "images", "base", "files", "etc", "containerd", "config.toml"))
	if err != nil {
		return err
	}
	match := regexp.MustCompile(`sandbox_image\s*=\s*"([^"]+)"`).FindSubmatch(cfg)
	if match == nil {
		return errors.New("no sandbox_image in kind's containerd config")
	}
	b.sandboxImage = string(match[1])
	b.storage, err = readKindStorage(m.Dir)
	return err
}

// crictlVersion is the crictl version kind's base image uses.
func (b *Builder) crictlVersion() string {
	df, err := os.ReadFile(filepath.Join(b.kindDir, "images", "base", "Dockerfile"))
	if err == nil {
		if m := regexp.MustCompile(`CRICTL_VERSION="(v[^"]+)"`).FindSubmatch(df); m != nil {
			return string(m[1])
		}
	}
	return "v1.36.0"
}

func (b *Builder) listKubeadmImages(ctx context.Context) error {
	out, err := b.run.Output(ctx, b.dir("bin", b.opts.KubernetesVersion, "kubeadm"),
		"config", "images", "list", "--kubernetes-version", b.opts.KubernetesVersion)
	if err != nil {
		return err
	}
	b.kubeadmList = strings.Fields(out)
	for _, want := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "etcd", "coredns", "pause"} {
		if b.kubeadmImage(want) == "" {
			return fmt.Errorf("kubeadm lists no %s image: %v", want, b.kubeadmList)
		}
	}
	return nil
}

// kubeadmImage is the image kubeadm names for a component ("etcd", "pause", ...).
func (b *Builder) kubeadmImage(component string) string {
	for _, img := range b.kubeadmList {
		repo := img[:strings.LastIndex(img, ":")]
		if strings.HasSuffix(repo, "/"+component) {
			return img
		}
	}
	return ""
}

func tagOf(image string) string { return image[strings.LastIndex(image, ":")+1:] }

func (b *Builder) componentTags() []string {
	tags := append([]string{}, b.kubeadmList...)
	tags = append(tags, MetalLBImages...)
	return append(tags, b.sandboxImage, FlannelImage, b.storage.provisioner, b.storage.helper)
}

func hashFS(fsys fs.FS, root string) string {
	var parts []string
	_ = fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		parts = append(parts, p+"\x00"+string(data))
		return nil
	})
	sort.Strings(parts)
	return hashStrings(parts)
}

func hashDir(dir string) string { return hashFS(os.DirFS(dir), ".") }
