package progress

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateAndLoad(t *testing.T) {
	t.Parallel()
	s := Open(t.TempDir(), "c1")
	if err := s.Update("pod", func(lp *LabProgress) { lp.MarkDone("apply"); lp.MarkDone("apply") }); err != nil {
		t.Fatal(err)
	}
	f, err := Open(filepath.Dir(filepath.Dir(s.Path())), "c1").Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Labs["pod"].Done; len(got) != 1 || got[0] != "apply" {
		t.Errorf("Done = %v, want [apply]", got)
	}
	if err := s.Clear("pod"); err != nil {
		t.Fatal(err)
	}
	f, _ = s.Load()
	if f.Labs["pod"] != nil {
		t.Error("Clear left the lab")
	}
}

func TestCorruptFileIsSetAside(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Open(dir, "c1")
	os.MkdirAll(filepath.Dir(s.Path()), 0o755)
	os.WriteFile(s.Path(), []byte("{not json"), 0o644)
	f, err := s.Load()
	if err != nil {
		t.Fatalf("Load of a corrupt file: %v", err)
	}
	if len(f.Labs) != 0 || !strings.Contains(s.Warning, "corrupt") {
		t.Errorf("got %+v, warning %q", f, s.Warning)
	}
	matches, _ := filepath.Glob(s.Path() + ".corrupt-*")
	if len(matches) != 1 {
		t.Errorf("corrupt file not set aside: %v", matches)
	}
}
