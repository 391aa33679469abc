package images

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kindlab/kindlab/internal/runner"
)

// buildBase redoes kind's base image on the Debian node rootfs: kind's files from the
// kind module, its RUN steps, kindlab's fixes, then imports it as an image.
func (b *Builder) buildBase(ctx context.Context) error {
	root, err := b.extractRootfs(ctx, "node")
	defer os.RemoveAll(root)
	if err != nil {
		return err
	}
	kindFiles := filepath.Join(b.kindDir, "images", "base", "files")
	err = filepath.WalkDir(kindFiles, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(kindFiles, p)
		dst := filepath.Join(root, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(rel, "usr/local/bin/") || strings.HasPrefix(rel, "kind/bin/") {
			mode = 0o755
		}
		return copyOver(p, dst, mode)
	})
	if err != nil {
		return fmt.Errorf("copy kind's base files: %w", err)
	}
	ours := map[string]struct {
		dst  string
		mode os.FileMode
	}{
		"files/kindlab-egress-guard.sh":      {"kind/bin/kindlab-egress-guard.sh", 0o755},
		"files/kindlab-egress-guard.service": {"etc/systemd/system/kindlab-egress-guard.service", 0o644},
		"files/base-setup.sh":                {"tmp/kindlab-base-setup.sh", 0o755},
	}
	for src, o := range ours {
		data, err := embedded.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(root, o.dst), data, o.mode); err != nil {
			return err
		}
	}
	if err := copyOver(b.dir("bin", b.opts.KubernetesVersion, "crictl"), filepath.Join(root, "usr/local/bin/crictl"), 0o755); err != nil {
		return err
	}
	if err := b.run.Run(ctx, "chroot", root, "/bin/sh", "/tmp/kindlab-base-setup.sh"); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(root, "tmp/kindlab-base-setup.sh")); err != nil {
		return err
	}
	const rootfsImage = "kindlab/base-rootfs:bookworm"
	if err := b.importDir(ctx, root, rootfsImage); err != nil {
		return err
	}
	// systemd must know it runs in a container and stops on SIGRTMIN+3.
	return b.buildImage(ctx, []string{baseImage}, "FROM "+rootfsImage+`
ENV container=docker
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]
`, nil)
}

func copyOver(src, dst string, mode os.FileMode) error {
	_ = os.Remove(dst)
	if err := copyFile(src, dst); err != nil {
		return err
	}
	return os.Chmod(dst, mode)
}

// extractRootfs unpacks the root filesystem archive of that name into a fresh work
// directory, which the caller removes (also when this fails).
func (b *Builder) extractRootfs(ctx context.Context, name string) (string, error) {
	root := b.dir("tmp", name+".work")
	if err := os.RemoveAll(root); err != nil {
		return root, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return root, err
	}
	return root, b.run.Run(ctx, "tar", "--numeric-owner", "--xattrs", "-C", root, "-xf", b.dir("rootfs", name+".tar"))
}

// importDir imports a directory tree as an image, streaming it through tar: all of
// it, or the members the tar arguments name.
func (b *Builder) importDir(ctx context.Context, dir, tag string, members ...string) error {
	if len(members) == 0 {
		members = []string{"."}
	}
	tarCmd := exec.CommandContext(ctx, "tar", append([]string{"--numeric-owner", "--xattrs", "-C", dir, "-cf", "-"}, members...)...)
	out, err := tarCmd.StdoutPipe()
	if err != nil {
		return err
	}
	tarCmd.Stderr = runner.LogOf(ctx, b.opts.Log)
	if err := tarCmd.Start(); err != nil {
		return err
	}
	importErr := b.run.Do(ctx, runner.Cmd{Name: "docker", Args: []string{"import", "-", tag}, Stdin: out})
	tarErr := tarCmd.Wait()
	if importErr != nil {
		return importErr
	}
	return tarErr
}

func (b *Builder) buildComponents(ctx context.Context) error {
	bin := func(n string) string { return b.dir("bin", b.opts.KubernetesVersion, n) }
	static := func(name string) string {
		return "FROM scratch\nCOPY " + name + " /usr/local/bin/" + name + "\nENV PATH=/usr/local/bin\nENTRYPOINT [\"/usr/local/bin/" + name + "\"]\n"
	}
	for _, name := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"} {
		if err := b.buildImage(ctx, []string{b.kubeadmImage(name)}, static(name), map[string]string{name: bin(name)}); err != nil {
			return err
		}
	}
	builds := []struct {
		tags       []string
		dockerfile string
		files      map[string]string
	}{
		{[]string{b.kubeadmImage("kube-proxy")}, "FROM " + kubeProxyBase + "\nCOPY kube-proxy /usr/local/bin/kube-proxy\nENTRYPOINT [\"/usr/local/bin/kube-proxy\"]\n",
			map[string]string{"kube-proxy": bin("kube-proxy")}},
		{[]string{b.kubeadmImage("coredns")}, "FROM scratch\nCOPY coredns /coredns\nEXPOSE 53 53/udp\nENTRYPOINT [\"/coredns\"]\n",
			map[string]string{"coredns": bin("coredns")}},
		{uniq(b.kubeadmImage("pause"), b.sandboxImage), "FROM scratch\nCOPY pause /pause\nENTRYPOINT [\"/pause\"]\n",
			map[string]string{"pause": bin("pause")}},
		{[]string{FlannelImage}, flannelDockerfile(), map[string]string{"flanneld": bin("flanneld")}},
		// kind's default storage: the provisioner from its Go source; the helper pod
		// only runs a shell script (mkdir, rm), which the lab images' Debian userland has.
		{[]string{b.storage.provisioner}, static("local-path-provisioner"),
			map[string]string{"local-path-provisioner": bin("local-path-provisioner")}},
		{[]string{b.storage.helper}, "FROM " + userlandImage + "\n", nil},
		{[]string{MetalLBImages[0]}, "FROM scratch\nCOPY controller /controller\nENTRYPOINT [\"/controller\"]\n",
			map[string]string{"controller": bin("controller")}},
		{[]string{MetalLBImages[1]}, "FROM scratch\nCOPY speaker /speaker\nENTRYPOINT [\"/speaker\"]\n",
			map[string]string{"speaker": bin("speaker")}},
	}
	for _, bd := range builds {
		if err := b.buildImage(ctx, bd.tags, bd.dockerfile, bd.files); err != nil {
			return err
		}
	}
	return nil
}

func uniq(xs ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func (b *Builder) buildLabImages(ctx context.Context) error {
	page, err := embedded.ReadFile("files/nginx-index.html")
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(b.dir("tmp"), "lab-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, v := range []struct {
		tags           []string
		version, color string
	}{
		{[]string{NginxV1}, "1.10", "#1f6feb"},
		{[]string{NginxV2, NginxLatest}, "1.11", "#2da44e"},
	} {
		index := filepath.Join(tmp, "index-"+v.version+".html")
		html := strings.NewReplacer("@VERSION@", v.version, "@COLOR@", v.color).Replace(string(page))
		if err := os.WriteFile(index, []byte(html), 0o644); err != nil {
			return err
		}
		version := filepath.Join(tmp, "version-"+v.version)
		if err := os.WriteFile(version, []byte(v.version+"\n"), 0o644); err != nil {
			return err
		}
		df := "FROM " + userlandImage + "\nCOPY index.html /var/www/html/index.html\nCOPY version /var/www/html/version\n" +
			"EXPOSE 80\nSTOPSIGNAL SIGQUIT\nCMD [\"nginx\", \"-g\", \"daemon off;\"]\n"
		if err := b.buildImage(ctx, v.tags, df, map[string]string{"index.html": index, "version": version}); err != nil {
			return err
		}
	}
	if err := b.buildImage(ctx, []string{EchoHostname}, "FROM scratch\nCOPY echohostname /echo-hostname\nEXPOSE 80\nENTRYPOINT [\"/echo-hostname\"]\n",
		map[string]string{"echohostname": b.dir("bin", b.opts.KubernetesVersion, "echohostname")}); err != nil {
		return err
	}
	return b.buildImage(ctx, []string{Debug, SidecarCurl, "kindlab/debug:latest"}, "FROM "+userlandImage+"\nCMD [\"bash\"]\n", nil)
}

// buildNode assembles the node image the way kind's node-image builder does, but
// from local images only: kind's own builder always pulls its base image.
func (b *Builder) buildNode(ctx context.Context) error {
	kver := b.opts.KubernetesVersion
	name := fmt.Sprintf("kindlab-build-%d-%d", time.Now().Unix(), rand.IntN(1<<20))
	if err := b.run.Run(ctx, "docker", "run", "-d", "--init", "--name", name, "--entrypoint=sleep", "--network=none",
		"--security-opt", "seccomp=unconfined", baseImage, "infinity"); err != nil {
		return err
	}
	defer b.run.Run(context.WithoutCancel(ctx), "docker", "rm", "-f", "-v", name)
	exec := func(args ...string) error {
		return b.run.Run(ctx, "docker", append([]string{"exec", name}, args...)...)
	}

	for _, n := range []string{"kubeadm", "kubelet", "kubectl"} {
		if err := b.run.Run(ctx, "docker", "cp", b.dir("bin", kver, n), name+":/usr/bin/"+n); err != nil {
			return err
		}
	}
	cni, err := embedded.ReadFile("files/default-cni.yaml")
	if err != nil {
		return err
	}
	cniManifest := flannelManifest(string(cni))
	if err := exec("mkdir", "-p", "/kind/manifests"); err != nil {
		return err
	}
	if err := b.run.Run(ctx, "docker", "cp", b.dir("src", "metallb-native.yaml"), name+":"+MetalLBManifest); err != nil {
		return err
	}
	coredns, err := embedded.ReadFile("files/coredns.yaml")
	if err != nil {
		return err
	}
	files := map[string]string{
		"/kind/version":                    kver,
		"/kind/manifests/default-cni.yaml": cniManifest,
		LocalPathManifest:                  string(apiFromHostIP([]byte(b.storage.manifest))),
		StorageManifest:                    storageClasses(b.storage.manifest),
		CoreDNSManifest:                    strings.ReplaceAll(string(coredns), "@IMAGE@", b.kubeadmImage("coredns")),
	}
	patches, err := fs.ReadDir(embedded, "files/kubeadm-patches")
	if err != nil {
		return err
	}
	if err := exec("mkdir", "-p", KubeadmPatches); err != nil {
		return err
	}
	for _, p := range patches {
		data, err := embedded.ReadFile("files/kubeadm-patches/" + p.Name())
		if err != nil {
			return err
		}
		files[KubeadmPatches+"/"+p.Name()] = string(data)
	}
	// The node is Ready as soon as its kubelet registers: its CNI configuration and
	// plugins are in place from the start (a pod waits in flannelcni until flanneld
	// has given the node its subnet).
	for _, p := range b.cniPluginPaths() {
		if err := b.run.Run(ctx, "docker", "cp", p, name+":/opt/cni/bin/"+filepath.Base(p)); err != nil {
			return err
		}
	}
	if err := exec("mkdir", "-p", "/etc/cni/net.d"); err != nil {
		return err
	}
	files[CNIConfigPath] = cniConfig()
	// Pulls go through kindlab's local registry, offline by default: `cluster create`
	// lets docker.io fall back to its own registry where that answers.
	for _, host := range MirrorHosts {
		if err := exec("mkdir", "-p", CertsDir+"/"+host); err != nil {
			return err
		}
		files[CertsDir+"/"+host+"/hosts.toml"] = MirrorHostsToml(host, false)
	}
	if err := exec("sh", "-c", `grep -q config_path /etc/containerd/config.toml || printf '\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "`+CertsDir+`"\n' >> /etc/containerd/config.toml`); err != nil {
		return err
	}
	for path, content := range files {
		if err := b.run.Do(ctx, runner.Cmd{Name: "docker", Args: []string{"exec", "-i", name, "sh", "-c", "cat > " + path},
			Stdin: strings.NewReader(content)}); err != nil {
			return err
		}
	}
	if err := exec("sh", "-c", "nohup containerd >/var/log/kindlab-build-containerd.log 2>&1 &"); err != nil {
		return err
	}
	ready := false
	for i := 0; i < 100 && !ready; i++ {
		ready = exec("ctr", "version") == nil
		if !ready {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !ready {
		return fmt.Errorf("containerd did not start in the build container")
	}
	all := append(b.componentTags(), LabImages...)
	if err := b.loadImages(ctx, name, all); err != nil {
		return err
	}
	list, err := b.run.Output(ctx, "docker", "exec", name, "ctr", "-n", "k8s.io", "images", "ls", "-q")
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, l := range strings.Fields(list) {
		have[l] = true
	}
	for _, img := range all {
		ref := ContainerdName(img)
		if !have[ref] {
			return fmt.Errorf("image %s is missing from the node image after import", ref)
		}
		if err := exec("ctr", "-n", "k8s.io", "images", "label", ref, "io.cri-containerd.pinned=pinned"); err != nil {
			return err
		}
	}
	if err := exec("sh", "-c", "pkill containerd; while pgrep -x containerd >/dev/null; do sleep 0.1; done; rm -f /var/log/kindlab-build-containerd.log"); err != nil {
		return err
	}
	return b.run.Run(ctx, "docker", "commit",
		"--change", `ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]`,
		"--change", `CMD []`,
		"--change", "LABEL "+NodeFeaturesLabel+"="+strings.Join(nodeFeatures, ","),
		name, NodeImage(kver))
}

// loadImages streams `docker save` of images into containerd inside container.
func (b *Builder) loadImages(ctx context.Context, container string, imgs []string) error {
	save := exec.CommandContext(ctx, "docker", append([]string{"save"}, imgs...)...)
	out, err := save.StdoutPipe()
	if err != nil {
		return err
	}
	save.Stderr = runner.LogOf(ctx, b.opts.Log)
	if err := save.Start(); err != nil {
		return err
	}
	importErr := b.run.Do(ctx, runner.Cmd{Name: "docker", Args: []string{"exec", "-i", container,
		"ctr", "-n", "k8s.io", "images", "import", "--all-platforms", "--no-unpack", "--digests", "-"}, Stdin: out})
	saveErr := save.Wait()
	if importErr != nil {
		return importErr
	}
	return saveErr
}
