package images

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLddPaths(t *testing.T) {
	t.Parallel()
	out := `/usr/sbin/conntrack:
	linux-vdso.so.1 (0x00007f74a9e76000)
	libmnl.so.0 => /lib/x86_64-linux-gnu/libmnl.so.0 (0x00007f74a9e2d000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f74a9c4b000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f74a9e78000)
`
	want := []string{"/lib/x86_64-linux-gnu/libmnl.so.0", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}
	if got := lddPaths(out); !reflect.DeepEqual(got, want) {
		t.Errorf("lddPaths = %q, want %q", got, want)
	}
}

func TestClosureFollowsLinksInsideRoot(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	mk("usr/sbin/xtables-nft-multi")
	mk("usr/lib/x86_64-linux-gnu/libc.so.6")
	link("usr/lib", "lib")                                      // merged /usr, relative
	link("/usr/sbin/iptables-nft", "etc/alternatives/iptables") // absolute: inside root, not the host's
	link("/etc/alternatives/iptables", "usr/sbin/iptables")
	link("xtables-nft-multi", "usr/sbin/iptables-nft")
	got, err := closure(root, []string{"/usr/sbin/iptables", "/lib/x86_64-linux-gnu/libc.so.6"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"./etc", "./etc/alternatives", "./etc/alternatives/iptables", "./lib", "./usr", "./usr/lib",
		"./usr/lib/x86_64-linux-gnu", "./usr/lib/x86_64-linux-gnu/libc.so.6", "./usr/sbin", "./usr/sbin/iptables",
		"./usr/sbin/iptables-nft", "./usr/sbin/xtables-nft-multi"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("closure =\n%q\nwant\n%q", got, want)
	}
	if _, err := closure(root, []string{"/usr/sbin/missing"}); err == nil {
		t.Error("closure of a missing file: no error")
	}
}
