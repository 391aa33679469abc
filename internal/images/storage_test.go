package images

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func writeStorageSource(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "pkg", "build", "nodeimage")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "const_storage.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReadKindStorageEvaluatesTheConstants(t *testing.T) {
	dir := writeStorageSource(t, "package nodeimage\n\n"+
		"const storageProvisionerImage = \"docker.io/kindest/local-path-provisioner:v1\"\n"+
		"const storageHelperImage = \"docker.io/kindest/local-path-helper:v2\"\n"+
		"var defaultStorageImages = []string{storageProvisionerImage, storageHelperImage}\n"+
		"const defaultStorageManifest = `\nkind: Deployment\n    image: ` + storageProvisionerImage + `\n    helper: ` + storageHelperImage + `\n`\n")
	s, err := readKindStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.provisioner != "docker.io/kindest/local-path-provisioner:v1" || s.helper != "docker.io/kindest/local-path-helper:v2" {
		t.Fatalf("images = %q, %q", s.provisioner, s.helper)
	}
	want := "\nkind: Deployment\n    image: docker.io/kindest/local-path-provisioner:v1\n    helper: docker.io/kindest/local-path-helper:v2\n"
	if s.manifest != want {
		t.Fatalf("manifest = %q, want %q", s.manifest, want)
	}
}

func TestReadKindStorageSaysWhatIsMissing(t *testing.T) {
	dir := writeStorageSource(t, "package nodeimage\n\nconst storageHelperImage = \"h\"\nconst defaultStorageManifest = 42\n")
	_, err := readKindStorage(dir)
	if err == nil || !strings.Contains(err.Error(), "defaultStorageManifest") {
		t.Fatalf("err = %v, want one naming defaultStorageManifest", err)
	}
	if _, err := readKindStorage(t.TempDir()); err == nil {
		t.Fatal("no error for a kind module without the file")
	}
}

// The kind module this binary is built with holds what the node image needs.
func TestReadKindStorageFromTheKindModule(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", kindModule).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("kind module not in the module cache: %v", err)
	}
	s, err := readKindStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: StorageClass", "provisioner: rancher.io/local-path", "image: " + s.provisioner, "image: " + s.helper} {
		if !strings.Contains(s.manifest, want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
}

func TestStorageClassesKeepsOnlyTheClass(t *testing.T) {
	in := "\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: local-path-storage\n\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: standard\nprovisioner: rancher.io/local-path\n\n---\nkind: ConfigMap\napiVersion: v1\ndata:\n  helperPod.yaml: |-\n    kind: Pod\n"
	want := "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: standard\nprovisioner: rancher.io/local-path\n"
	if got := storageClasses(in); got != want {
		t.Fatalf("storageClasses = %q, want %q", got, want)
	}
}
