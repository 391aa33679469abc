package registry

import (
	"testing"

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
