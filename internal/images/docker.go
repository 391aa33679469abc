package images

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// imagesPresent returns a check that every tag exists in Docker.
func (b *Builder) imagesPresent(tags ...string) func(context.Context) bool {
	return func(ctx context.Context) bool {
		if len(tags) == 0 {
			return false
		}
		args := append([]string{"image", "inspect", "-f", "{{.Id}}"}, tags...)
		_, err := b.run.Output(ctx, "docker", args...)
		return err == nil
	}
}

// buildImage builds an image from a Dockerfile and files (name in the context =>
// path on disk) with Docker's classic builder; no registry is contacted because
// every FROM names a local image or scratch.
func (b *Builder) buildImage(ctx context.Context, tags []string, dockerfile string, files map[string]string) error {
	ctxDir, err := os.MkdirTemp(b.dir("tmp"), "image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ctxDir)
	for name, src := range files {
		if err := copyFile(src, filepath.Join(ctxDir, name)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	args := []string{"build", "--pull=false", "-q"}
	for _, t := range tags {
		args = append(args, "-t", t)
	}
	if err := b.run.Run(ctx, "docker", append(args, ctxDir)...); err != nil {
		return fmt.Errorf("build %s: %w", strings.Join(tags, ", "), err)
	}
	return nil
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, st.Mode())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
