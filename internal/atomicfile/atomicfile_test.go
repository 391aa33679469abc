package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesOrKeeps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if err := WriteBytes(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	failed := Write(path, 0o600, func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("disk full")
	})
	if got, _ := os.ReadFile(path); failed == nil || string(got) != "old" {
		t.Fatalf("a failed write: err %v, content %q; want an error and the old content", failed, got)
	}
	if err := WriteBytes(path, []byte("new"), 0o640); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	entries, _ := os.ReadDir(dir)
	if string(got) != "new" || fi.Mode().Perm() != 0o640 || len(entries) != 1 {
		t.Errorf("content %q mode %v files %d; want new, 0640, no temporary file left", got, fi.Mode(), len(entries))
	}
}
