package lab

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pack writes a lab pack with goodLab and its manifest, and returns its dir.
func pack(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "labs", "demo"), 0o755)
	os.MkdirAll(filepath.Join(dir, "manifests", "demo"), 0o755)
	os.WriteFile(filepath.Join(dir, "labs", "demo", "lab.yaml"), []byte(goodLab), 0o644)
	os.WriteFile(filepath.Join(dir, "manifests", "demo", "pod.yaml"), []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"), 0o644)
	return dir
}

func loadPack(t *testing.T, dir string) error {
	t.Helper()
	labsFS, lc, err := PackFS(filepath.Join(dir, "labs"))
	if err != nil {
		return err
	}
	defer lc.Close()
	manFS, mc, err := PackFS(filepath.Join(dir, "manifests"))
	if err != nil {
		return err
	}
	defer mc.Close()
	done := make(chan error, 1)
	go func() { _, err := Load(labsFS, manFS); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Load hangs")
		return nil
	}
}

func TestPackGoodLoads(t *testing.T) {
	t.Parallel()
	if err := loadPack(t, pack(t)); err != nil {
		t.Fatal(err)
	}
}

// TestPackCannotReachOutside: a symbolic link out of the pack is not followed.
func TestPackCannotReachOutside(t *testing.T) {
	t.Parallel()
	dir := pack(t)
	outside := filepath.Join(t.TempDir(), "secret.yaml")
	os.WriteFile(outside, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"), 0o644)
	m := filepath.Join(dir, "manifests", "demo", "pod.yaml")
	os.Remove(m)
	os.Symlink(outside, m)
	if err := loadPack(t, dir); err == nil || !strings.Contains(err.Error(), "pod.yaml") {
		t.Errorf("a manifest linked from outside the pack: %v", err)
	}
}

func TestPackFileNamesStayInTheLab(t *testing.T) {
	t.Parallel()
	dir := pack(t)
	os.MkdirAll(filepath.Join(dir, "manifests", "other"), 0o755)
	os.WriteFile(filepath.Join(dir, "manifests", "other", "x.yaml"), []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"), 0o644)
	lab := strings.Replace(goodLab, "files: [pod.yaml]", "files: [pod.yaml, ../other/x.yaml]", 1)
	if lab == goodLab {
		t.Fatal("goodLab changed: fix the test")
	}
	os.WriteFile(filepath.Join(dir, "labs", "demo", "lab.yaml"), []byte(lab), 0o644)
	if err := loadPack(t, dir); err == nil || !strings.Contains(err.Error(), "plain file name") {
		t.Errorf("a manifest in another lab's directory: %v", err)
	}
}

func TestPackFIFOAndHugeFilesAreRefused(t *testing.T) {
	t.Parallel()
	dir := pack(t)
	f := filepath.Join(dir, "labs", "demo", "lab.yaml")
	os.Remove(f)
	if err := syscall.Mkfifo(f, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if err := loadPack(t, dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a FIFO named lab.yaml: %v", err)
	}
	os.Remove(f)
	os.Symlink("/dev/zero", f)
	if err := loadPack(t, dir); err == nil {
		t.Error("/dev/zero as lab.yaml loads")
	}
	os.Remove(f)
	os.WriteFile(f, []byte(goodLab+strings.Repeat("#", MaxFileSize)), 0o644)
	if err := loadPack(t, dir); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a lab file over %d bytes: %v", MaxFileSize, err)
	}
}

func TestHTTPCheckURLsStayInTheCluster(t *testing.T) {
	t.Parallel()
	for url, ok := range map[string]bool{
		"http://{svc:hostname-svc-clusterip}:8080":      true,
		"http://{pod:my-nginx-pod}":                     true,
		"http://hostname-svc:8080/path?x=1":             true,
		"http://hostname-svc.default.svc.cluster.local": true,
		"http://169.254.169.254/latest/meta-data/":      false,
		"http://metadata.google.internal/":              false,
		"http://127.0.0.1:22/":                          false,
		"http://user@hostname-svc/":                     false,
		"http://hostname-svc/[1-99999]":                 false,
		"https://hostname-svc/":                         false,
	} {
		if got := inClusterURL(url); got != ok {
			t.Errorf("inClusterURL(%q) = %v, want %v", url, got, ok)
		}
	}
}
