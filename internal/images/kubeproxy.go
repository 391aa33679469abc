package images

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// kubeProxyBase is the root filesystem of kube-proxy's image: iptables (nft and
// legacy), conntrack and the libraries they load, taken from the Debian userland.
// kube-proxy runs in every cluster and its image is unpacked when the cluster
// starts: on the whole userland (222 MB) that took 3-8 s of a new cluster's two
// busy cores; this one is a few MB.
const kubeProxyBase = "kindlab/kube-proxy-base:bookworm"

// kubeProxyPrograms are what kube-proxy runs, by the names it runs them.
var kubeProxyPrograms = []string{
	"/usr/sbin/iptables", "/usr/sbin/iptables-save", "/usr/sbin/iptables-restore",
	"/usr/sbin/ip6tables", "/usr/sbin/ip6tables-save", "/usr/sbin/ip6tables-restore",
	"/usr/sbin/iptables-nft", "/usr/sbin/iptables-nft-save", "/usr/sbin/iptables-nft-restore",
	"/usr/sbin/ip6tables-nft", "/usr/sbin/ip6tables-nft-save", "/usr/sbin/ip6tables-nft-restore",
	"/usr/sbin/iptables-legacy", "/usr/sbin/iptables-legacy-save", "/usr/sbin/iptables-legacy-restore",
	"/usr/sbin/ip6tables-legacy", "/usr/sbin/ip6tables-legacy-save", "/usr/sbin/ip6tables-legacy-restore",
	"/usr/sbin/conntrack",
}

// buildKubeProxyBase imports the minimal root filesystem for kube-proxy.
func (b *Builder) buildKubeProxyBase(ctx context.Context) error {
	root, err := b.extractRootfs(ctx, "userland")
	defer os.RemoveAll(root)
	if err != nil {
		return err
	}
	// iptables' extensions are loaded at run time, so ldd does not list them.
	mods, err := filepath.Glob(filepath.Join(root, "usr/lib/*/xtables/*.so"))
	if err != nil || len(mods) == 0 {
		return fmt.Errorf("no iptables extensions in the userland root filesystem (%v)", err)
	}
	var wanted []string
	wanted = append(wanted, kubeProxyPrograms...)
	wanted = append(wanted, "/etc/protocols", "/etc/services", "/etc/ethertypes")
	var elfs []string
	for _, m := range mods {
		rel, _ := filepath.Rel(root, m)
		wanted = append(wanted, "/"+rel)
		elfs = append(elfs, "/"+rel)
	}
	elfs = append(elfs, "/usr/sbin/xtables-nft-multi", "/usr/sbin/xtables-legacy-multi", "/usr/sbin/conntrack")
	out, err := exec.CommandContext(ctx, "chroot", append([]string{root, "ldd"}, elfs...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ldd in the userland root filesystem: %v: %s", err, out)
	}
	wanted = append(wanted, lddPaths(string(out))...)
	members, err := closure(root, wanted)
	if err != nil {
		return err
	}
	list := filepath.Join(b.dir("tmp"), "kube-proxy-base.list")
	if err := os.WriteFile(list, []byte(strings.Join(members, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(list)
	return b.importDir(ctx, root, kubeProxyBase, "--no-recursion", "-T", list)
}

var lddPathRE = regexp.MustCompile(`(?m)(?:=>\s*)?(/\S+)\s+\(0x`)

// lddPaths are the library paths in ldd's output.
func lddPaths(out string) []string {
	var paths []string
	for _, m := range lddPathRE.FindAllStringSubmatch(out, -1) {
		paths = append(paths, m[1])
	}
	return paths
}

// closure lists, relative to root and sorted, the archive members that make the
// given absolute paths work inside root: every directory on the way, every
// symbolic link met (/lib to usr/lib, /etc/alternatives/...) and the final file.
func closure(root string, paths []string) ([]string, error) {
	seen := map[string]bool{}
	add := func(p string) {
		for q := p; q != "/" && q != "."; q = path.Dir(q) {
			seen["."+q] = true
		}
	}
	for _, p := range paths {
		if err := resolveIn(root, p, add, 0); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// resolveIn follows p inside root the way the kernel would with root as "/",
// calling add for each path that must exist for p to resolve.
func resolveIn(root, p string, add func(string), depth int) error {
	if depth > 40 {
		return fmt.Errorf("%s: too many symbolic links", p)
	}
	parts := strings.Split(strings.Trim(path.Clean(p), "/"), "/")
	cur := "/"
	for i, part := range parts {
		next := path.Join(cur, part)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return fmt.Errorf("%s in the userland root filesystem: %w", p, err)
		}
		add(next)
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return err
		}
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		rest := path.Join(append([]string{target}, parts[i+1:]...)...)
		return resolveIn(root, rest, add, depth+1)
	}
	return nil
}
