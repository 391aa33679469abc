package images

import (
	"context"
	"fmt"
	"strings"

	"github.com/kindlab/kindlab/internal/runner"
)

// Image is one of kindlab's images as Docker knows it.
type Image struct {
	Name    string `json:"name"`
	Present bool   `json:"present"`
	Size    string `json:"size,omitempty"`
	Created string `json:"created,omitempty"`
}

// List reports the node image of kubernetesVersion, the lab images and the local
// registry's image.
func List(ctx context.Context, kubernetesVersion string) ([]Image, error) {
	r := runner.Runner{}
	if _, err := r.Output(ctx, "docker", "version", "--format", "{{.Server.Version}}"); err != nil {
		return nil, fmt.Errorf("docker does not answer: run kindlab doctor --fix (%v)", err)
	}
	names := append([]string{NodeImage(kubernetesVersion)}, LabImages...)
	names = append(names, RegistryImage)
	var out []Image
	for _, n := range names {
		info, err := r.Output(ctx, "docker", "image", "inspect", "-f", "{{.Size}}\t{{.Created}}", n)
		if err != nil {
			out = append(out, Image{Name: n})
			continue
		}
		size, created, _ := strings.Cut(info, "\t")
		out = append(out, Image{Name: n, Present: true, Size: humanBytes(size), Created: trimTime(created)})
	}
	return out, nil
}

func humanBytes(s string) string {
	var n float64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return s
	}
	units := []string{"B", "KB", "MB", "GB"}
	i := 0
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	return fmt.Sprintf("%.1f%s", n, units[i])
}

func trimTime(s string) string {
	if len(s) >= 19 {
		return strings.Replace(s[:19], "T", " ", 1)
	}
	return s
}
