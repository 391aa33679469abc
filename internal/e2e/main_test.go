//go:build e2e

// Package e2e tests kindlab against real kind clusters on this machine's Docker:
// images are built (or found up to date) first, then each test creates what it
// needs and deletes it. Run with `make test-e2e` (root: image builds use debootstrap).
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kindlab/kindlab/internal/images"
)

func cacheDir() string {
	if d := os.Getenv("KINDLAB_CACHE_DIR"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		panic(err)
	}
	return filepath.Join(base, "kindlab")
}

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	logPath := filepath.Join(cacheDir(), "logs", "e2e-images-build.log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log, err := os.Create(logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	start := time.Now()
	b := images.New(images.Options{CacheDir: cacheDir(), Log: log, Progress: func(e images.Event) {
		switch e.State {
		case images.Done:
			fmt.Printf("images: %-20s built in %s\n", e.Step, e.Elapsed.Round(time.Second))
		case images.Skipped:
			fmt.Printf("images: %-20s up to date\n", e.Step)
		case images.Failed:
			fmt.Printf("images: %-20s FAILED\n", e.Step)
		}
	}})
	err = b.Build(ctx)
	cancel()
	log.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building images failed (log: %s): %v\n", logPath, err)
		os.Exit(1)
	}
	fmt.Printf("images ready after %s\n", time.Since(start).Round(time.Second))
	os.Exit(m.Run())
}
