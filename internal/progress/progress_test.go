package progress

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	if w := s.TakeWarning(); len(f.Labs) != 0 || !strings.Contains(w, "corrupt") {
		t.Errorf("got %+v, warning %q", f, w)
	}
	if w := s.TakeWarning(); w != "" {
		t.Errorf("the warning was given twice: %q", w)
	}
	matches, _ := filepath.Glob(s.Path() + ".corrupt-*")
	if len(matches) != 1 {
		t.Errorf("corrupt file not set aside: %v", matches)
	}
}

// TestConcurrentWritersKeepEveryAnswer: stores opened separately (as separate
// kindlab commands open them) all updating at once lose nothing.
func TestConcurrentWritersKeepEveryAnswer(t *testing.T) {
	dir := t.TempDir()
	const writers, each = 12, 10
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := Open(dir, "kindlab")
			for i := 0; i < each; i++ {
				if err := s.Update("pod", func(lp *LabProgress) {
					if lp.Answers == nil {
						lp.Answers = map[string]string{}
					}
					lp.Answers[fmt.Sprintf("q%d-%d", w, i)] = "a"
				}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	f, err := Open(dir, "kindlab").Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.Labs["pod"].Answers); got != writers*each {
		t.Errorf("%d of %d answers kept", got, writers*each)
	}
}

func TestANegativeHintCountIsZero(t *testing.T) {
	dir := t.TempDir()
	s := Open(dir, "kindlab")
	os.MkdirAll(filepath.Dir(s.Path()), 0o755)
	os.WriteFile(s.Path(), []byte(`{"version":1,"labs":{"pod":{"hints":{"create":-5}},"x":null}}`), 0o644)
	f, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if n := f.Labs["pod"].Hints["create"]; n != 0 {
		t.Errorf("hint count %d, want 0", n)
	}
	if _, ok := f.Labs["x"]; ok {
		t.Error("a null lab is kept")
	}
}

func TestDoneOfCountsOnlyTheLabsSteps(t *testing.T) {
	t.Parallel()
	lp := &LabProgress{Done: []string{"b", "gone-1", "a", "gone-2"}}
	got := lp.DoneOf([]string{"a", "b", "c"})
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("DoneOf = %v, want [a b]", got)
	}
	var none *LabProgress
	if len(none.DoneOf([]string{"a"})) != 0 {
		t.Error("nil progress has done steps")
	}
}
