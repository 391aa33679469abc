package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kindlab/kindlab/internal/class"
)

func run(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Setenv("KINDLAB_STATE_DIR", t.TempDir())
	for _, args := range [][]string{
		{"frobnicate"},
		{"cluster", "create", "--no-such-flag"},
		{"hint"},
		{"answer", "pod"},
		{"hint", "no-such-lab"},
		{"hint", "pod", "no-such-step"},
		{"doctor", "-o", "yaml"},
		{"cluster", "status", "-o", "yaml"},
		{"class", "status", "-o", "table"},
		{"labs", "-o", "yaml"},
		{"check", "pod", "--output", "xml"},
		{"grade"},
		{"grade", "pod", "--all"},
		{"grade", "no-such-lab"},
		{"grade", "pod", "--junit", "-", "--json", "-"},
		{"grade", "pod", "--timeout", "soon"},
		{"solve", "pod", "create-pod", "--all"},
		{"class", "status"},
		{"class", "create", "--learners", "0"},
		{"class", "create", "--learners", "2", "--prefix", "Bad_Name"},
		{"class", "reset", "extra-arg"},
		{"class", "create", "--learners", "2", "--namespaces", "--token-ttl", "1m"},
		{"class", "kubeconfig"},
		{"labs", "--cluster", "../../escape"},
		{"hint", "pod", "--cluster", "a/b"},
	} {
		code, _, errOut := run(args...)
		if code != ExitCannot {
			t.Errorf("kindlab %v: exit %d, want %d (stderr %q)", args, code, ExitCannot, errOut)
		}
		if !strings.HasPrefix(errOut, "kindlab: ") {
			t.Errorf("kindlab %v: stderr %q does not say what went wrong", args, errOut)
		}
	}
}

func TestLabsLintAndList(t *testing.T) {
	t.Setenv("KINDLAB_STATE_DIR", t.TempDir())
	code, out, errOut := run("labs", "lint")
	if code != 0 || !strings.Contains(out, "all valid") {
		t.Fatalf("labs lint: %d %q %q", code, out, errOut)
	}
	code, out, _ = run("labs", "--lang", "en")
	if code != 0 || !strings.Contains(out, "pod") || !strings.Contains(out, "service-externalname") || !strings.Contains(out, "not started") {
		t.Errorf("labs: %d %q", code, out)
	}
}

func TestHintsGetMoreSpecific(t *testing.T) {
	t.Setenv("KINDLAB_STATE_DIR", t.TempDir())
	_, first, _ := run("hint", "pod", "--lang", "en")
	_, second, _ := run("hint", "pod", "--lang", "en")
	if !strings.Contains(first, "hint 1/") || !strings.Contains(second, "hint 2/") || first == second {
		t.Errorf("hints did not advance:\n%s\n%s", first, second)
	}
}

func TestLangFromLocale(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "ko_KR.UTF-8")
	if got := (&Globals{}).lang(); got != "ko" {
		t.Errorf("lang from LANG=ko_KR = %q", got)
	}
	if got := (&Globals{Lang: "en"}).lang(); got != "en" {
		t.Errorf("--lang en = %q", got)
	}
}

func TestSelectedLearnersSurviveRemoval(t *testing.T) {
	c := class.New(t.TempDir(), class.ModeClusters, "")
	for i := 1; i <= 4; i++ {
		c.Put(class.Learner{Name: class.LearnerName("s", i)})
	}
	all, err := selectLearners(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, l := range all {
		deleted = append(deleted, l.Name)
		c.Remove(l.Name)
	}
	if strings.Join(deleted, ",") != "s-01,s-02,s-03,s-04" || len(c.Learners) != 0 {
		t.Errorf("deleted %v, left %v: removing learners while walking the class skipped some", deleted, c.Learners)
	}
}

func TestStartupTitlesInKorean(t *testing.T) {
	r := newUIReport(nil, "ko")
	for in, want := range map[string]string{
		"checking this machine":                      "이 컴퓨터 점검",
		"building images (skips what is up to date)": "이미지 빌드 (최신인 단계는 건너뜀)",
		`creating cluster "kindlab"`:                 `클러스터 "kindlab" 생성`,
		`reusing cluster "kindlab"`:                  `클러스터 "kindlab" 재사용`,
		`deleting cluster "kindlab" (--recreate)`:    `클러스터 "kindlab" 삭제 (다시 만들기)`,
	} {
		if got := r.title(in); got != want {
			t.Errorf("title(%q) = %q, want %q", in, got, want)
		}
	}
	if got := newUIReport(nil, "en").title(`creating cluster "x"`); got != `Creating cluster "x"` {
		t.Errorf("en title %q", got)
	}
}

// TestStartWritesNoFileThroughADanglingLink: a link in the working directory named
// like a lab file, pointing nowhere, makes kindlab stop, and nothing is written
// where it points.
func TestStartWritesNoFileThroughADanglingLink(t *testing.T) {
	set, err := loadLabs()
	if err != nil {
		t.Fatal(err)
	}
	l, _ := set.Get("pod")
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere.yaml")
	if err := os.Symlink(target, filepath.Join(dir, l.Files[0])); err != nil {
		t.Fatal(err)
	}
	err = writeMissingManifests(set, l, dir)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("got %v, want a refusal naming the link", err)
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("a file was written through the link")
	}
}

// TestLabsCountsOnlyStepsTheLabHas: progress kept by an older kindlab may name
// steps a lab no longer has; `kindlab labs` never shows more done than there are.
func TestLabsCountsOnlyStepsTheLabHas(t *testing.T) {
	state := t.TempDir()
	t.Setenv("KINDLAB_STATE_DIR", state)
	os.MkdirAll(filepath.Join(state, "kindlab"), 0o755)
	os.WriteFile(filepath.Join(state, "kindlab", "progress.json"), []byte(`{"version":1,"labs":{"pod":{"done":["create-pod","old-a","old-b","old-c","old-d","old-e"]}}}`), 0o644)
	code, out, errOut := run("labs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "pod" {
			if !strings.Contains(line, " 1/") || !strings.Contains(line, "in progress") {
				t.Errorf("pod row: %q, want 1 step done, in progress", line)
			}
			return
		}
	}
	t.Errorf("no pod row:\n%s", out)
}
