package registry

import (
	"bytes"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kindlab/kindlab/internal/images"
)

// The registry keeps an image under the path a node's containerd asks its mirror
// for: Docker Hub's official images under library/.
func TestRefIsWhereANodeAsksForTheImage(t *testing.T) {
	t.Parallel()
	r := New(nil)
	for img, want := range map[string]string{
		"nginx:latest":                    "127.0.0.1:5001/library/nginx:latest",
		"nginx:1.10":                      "127.0.0.1:5001/library/nginx:1.10",
		"alicek106/rr-test:curl":          "127.0.0.1:5001/alicek106/rr-test:curl",
		"alicek106/rr-test:echo-hostname": "127.0.0.1:5001/alicek106/rr-test:echo-hostname",
	} {
		ref, err := r.ref(img)
		if err != nil {
			t.Fatalf("%s: %v", img, err)
		}
		if ref.String() != want {
			t.Errorf("%s is kept as %s, want %s", img, ref, want)
		}
		if ref.Context().Registry.Scheme() != "http" {
			t.Errorf("%s is pushed over %s, want http (the registry has no TLS)", img, ref.Context().Registry.Scheme())
		}
	}
}

// The registry holds every image the chapter names under the book's names.
func TestItHoldsEveryImageTheBookNames(t *testing.T) {
	t.Parallel()
	held := map[string]bool{}
	for _, img := range New(nil).Images {
		held[img] = true
	}
	for _, img := range []string{"nginx:latest", "nginx:1.10", "nginx:1.11", "alicek106/rr-test:echo-hostname", "alicek106/rr-test:curl", "alicek106/ubuntu:curl"} {
		if !held[img] {
			t.Errorf("the registry does not hold %s", img)
		}
	}
	if len(held) != len(images.LabImages) {
		t.Errorf("registry holds %d images, want the %d lab images", len(held), len(images.LabImages))
	}
}

// A saved image is pushed with its layers as they were saved: digests equal to
// their diff IDs (as a node's preloaded copy has them), the config byte for byte
// (its digest is Docker's image ID), and a registry serves it back intact.
func TestUncompressedKeepsLayerDigestsAndConfig(t *testing.T) {
	t.Parallel()
	src, err := random.Image(2048, 3)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("nginx:latest")
	path := filepath.Join(t.TempDir(), "saved.tar")
	if err := tarball.WriteToFile(path, tag, src); err != nil {
		t.Fatal(err)
	}
	saved, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	img, err := uncompressed(saved)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := src.ConfigFile()
	wantCfg, _ := src.ConfigName()
	if m.Config.Digest != wantCfg {
		t.Errorf("config digest %s, want the saved config's %s", m.Config.Digest, wantCfg)
	}
	if len(m.Layers) != len(cf.RootFS.DiffIDs) {
		t.Fatalf("%d layers, want %d", len(m.Layers), len(cf.RootFS.DiffIDs))
	}
	for i, l := range m.Layers {
		if l.Digest != cf.RootFS.DiffIDs[i] || l.MediaType != types.DockerUncompressedLayer {
			t.Errorf("layer %d is %s %s, want %s uncompressed", i, l.MediaType, l.Digest, cf.RootFS.DiffIDs[i])
		}
	}
	if !allUncompressed(m) {
		t.Error("allUncompressed is false for an uncompressed image")
	}

	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://")+"/library/nginx:latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push: %v", err)
	}
	back, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := back.ConfigName(); got != wantCfg {
		t.Errorf("pulled config %s, want %s", got, wantCfg)
	}
	srcLayers, _ := src.Layers()
	backLayers, _ := back.Layers()
	for i := range srcLayers {
		a, _ := srcLayers[i].Uncompressed()
		b, _ := backLayers[i].Compressed()
		x, _ := io.ReadAll(a)
		y, _ := io.ReadAll(b)
		if !bytes.Equal(x, y) {
			t.Errorf("layer %d comes back with other bytes", i)
		}
	}
	if m, _ := back.Manifest(); !allUncompressed(m) {
		t.Error("the registry serves compressed layers")
	}
	// A compressed image is not what the node has: it is pushed again.
	if m, _ := src.Manifest(); allUncompressed(m) {
		t.Error("allUncompressed is true for gzipped layers")
	}
}
