package images

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kindlab/kindlab/internal/runner"
)

const suite = "bookworm"

// mirror is the Debian mirror debootstrap uses: the option, else the first
// bookworm source of this machine's apt, else deb.debian.org.
func (b *Builder) mirror() string {
	if b.opts.Mirror != "" {
		return b.opts.Mirror
	}
	if m := mirrorFromSources("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"); m != "" {
		return m
	}
	return "http://deb.debian.org/debian"
}

func mirrorFromSources(paths ...string) string {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			switch {
			case len(fields) >= 2 && fields[0] == "URIs:" && !strings.Contains(fields[1], "security"):
				f.Close()
				return fields[1]
			case len(fields) >= 3 && fields[0] == "deb" && fields[2] == suite:
				f.Close()
				return fields[1]
			}
		}
		f.Close()
	}
	return ""
}

// debootstrap makes a minimal Debian root filesystem with pkgs, strips what no
// container needs, lets prepare adjust it, and archives it as rootfs/<name>.tar.
func (b *Builder) debootstrap(ctx context.Context, name string, pkgs []string, prepare func(root string) error) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("debootstrap needs root: run `sudo kindlab images build`")
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return fmt.Errorf("debootstrap is not installed: run `kindlab doctor --fix` or `apt-get install -y debootstrap`")
	}
	root := b.dir("rootfs", name+".work")
	if err := os.RemoveAll(root); err != nil {
		return err
	}
	debs := b.dir("debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(root)
	err := b.run.Run(ctx, "debootstrap", "--variant=minbase", "--cache-dir="+debs,
		"--include="+strings.Join(pkgs, ","), suite, root, b.mirror())
	if err != nil {
		return err
	}
	for _, junk := range []string{"usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/cache/apt", "var/lib/apt/lists", "var/log/apt", "var/cache/debconf/templates.dat-old"} {
		if err := os.RemoveAll(filepath.Join(root, junk)); err != nil {
			return err
		}
	}
	if prepare != nil {
		if err := prepare(root); err != nil {
			return err
		}
	}
	return b.tarDir(ctx, root, b.dir("rootfs", name+".tar"))
}

// tarDir archives dir's contents into out, atomically.
func (b *Builder) tarDir(ctx context.Context, dir, out string) error {
	tmp := out + ".tmp"
	if err := b.run.Run(ctx, "tar", "--numeric-owner", "--xattrs", "-C", dir, "-cf", tmp, "."); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}

// prepareUserland sends nginx's logs to the container's output, so that
// `kubectl logs` shows requests as in the book.
func prepareUserland(root string) error {
	logs := filepath.Join(root, "var/log/nginx")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	for file, target := range map[string]string{"access.log": "/dev/stdout", "error.log": "/dev/stderr"} {
		p := filepath.Join(logs, file)
		_ = os.Remove(p)
		if err := os.Symlink(target, p); err != nil {
			return err
		}
	}
	return nil
}

// importRootfs turns a root filesystem archive into an image.
func (b *Builder) importRootfs(ctx context.Context, tarPath, tag string) error {
	f, err := os.Open(tarPath)
	if err != nil {
		return err
	}
	defer f.Close()
	return b.run.Do(ctx, runner.Cmd{Name: "docker", Args: []string{"import", "-", tag}, Stdin: io.Reader(f)})
}
