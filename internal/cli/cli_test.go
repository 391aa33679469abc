package cli

import (
	"bytes"
	"strings"
	"testing"
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
