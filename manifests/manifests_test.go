package manifests

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"testing"
)

// bookDir holds the author's published chapter-6 files, byte for byte.
const bookDir = "../testdata/book/chapter6"

// A learner follows the book word for word: every manifest kindlab hands out is the
// book's file of the same name, unchanged, so the two cannot drift apart.
func TestEveryManifestIsTheBooksFile(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(FS, "*/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var noBook []string
	for _, f := range files {
		got, err := fs.ReadFile(FS, f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(bookDir, path.Base(f)))
		if os.IsNotExist(err) {
			noBook = append(noBook, f)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("manifests/%s differs from the book's %s/%s; copy the book's file unchanged", f, bookDir, path.Base(f))
		}
	}
	if len(noBook) > 0 {
		t.Errorf("manifests without a file of that name in the book (%s): %v", bookDir, noBook)
	}
}

// Every file of the chapter is handed to the learner by some lab.
func TestEveryBookFileIsUsed(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir(bookDir)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(FS, "*/*.yaml")
	used := map[string]bool{}
	for _, f := range files {
		used[path.Base(f)] = true
	}
	var unused []string
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".yaml" && !used[e.Name()] {
			unused = append(unused, e.Name())
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("book files no lab hands out: %v", unused)
	}
}
