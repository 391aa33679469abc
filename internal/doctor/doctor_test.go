package doctor

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMissingCapabilities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status string
		last   int
		want   []string
	}{
		{"all present", "Name:\tx\nCapBnd:\t000001ffffffffff\n", 40, nil},
		{"no CAP_SYS_RESOURCE (this CI machine)", "CapBnd:\t000001fffeffffff\n", 40, []string{"CAP_SYS_RESOURCE"}},
		{"older kernel knows fewer", "CapBnd:\t0000003fffffffff\n", 37, nil},
		{"two missing", "CapBnd:\t000001fffefffffe\n", 40, []string{"CAP_CHOWN", "CAP_SYS_RESOURCE"}},
		{"no CapBnd line", "Name:\tx\n", 40, nil},
		{"garbage", "CapBnd:\tzz\n", 40, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &Doctor{ProcStatus: tt.status, CapLastCap: tt.last}
			if got := d.MissingCapabilities(); !slices.Equal(got, tt.want) {
				t.Errorf("MissingCapabilities() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEmptyTarIsAValidArchive(t *testing.T) {
	t.Parallel()
	r := tar.NewReader(strings.NewReader(emptyTar()))
	h, err := r.Next()
	if err != nil {
		t.Fatalf("first header: %v", err)
	}
	if h.Name != "tmp/" || h.Typeflag != tar.TypeDir {
		t.Errorf("header = %q type %c, want directory tmp/", h.Name, h.Typeflag)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("second Next() = %v, want EOF", err)
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	r := Report{Findings: []Finding{
		{Check: "a", Status: "ok", Detail: "fine"},
		{Check: "b", Severity: Warn, Status: "warn", Detail: "meh", Fix: "do b"},
	}}
	if !r.CanCreateCluster() {
		t.Error("warnings alone must not block a cluster")
	}
	var sb strings.Builder
	r.Print(&sb)
	if !strings.Contains(sb.String(), "fix: do b") || strings.Contains(sb.String(), "fix: \n") {
		t.Errorf("Print() = %q, want the fix of the warning only", sb.String())
	}
	r.Findings = append(r.Findings, Finding{Check: "c", Severity: Fail, Status: "fail"})
	if r.CanCreateCluster() {
		t.Error("a failing finding must block a cluster")
	}
}

func TestWrapperScriptNamesWhatItDrops(t *testing.T) {
	t.Parallel()
	s := strings.ReplaceAll(wrapperScript, "%%", "%")
	for _, want := range []string{"--bundle", "--process", "exec "} {
		if !strings.Contains(s, want) {
			t.Errorf("wrapper script lacks %q", want)
		}
	}
}

func TestInotifyLimits(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "fs", "inotify"), 0o755)
	write := func(inst, watches string) {
		os.WriteFile(filepath.Join(dir, "fs/inotify/max_user_instances"), []byte(inst+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "fs/inotify/max_user_watches"), []byte(watches+"\n"), 0o644)
	}
	d := &Doctor{SysctlDir: dir}
	write("128", "524288")
	f := d.checkInotify()
	if f.Severity != Warn || !strings.Contains(f.Fix, "fs.inotify.max_user_instances=512") || strings.Contains(f.Fix, "watches") {
		t.Errorf("low instances: %+v", f)
	}
	write("1024", "1048576")
	if f := d.checkInotify(); f.Severity != OK {
		t.Errorf("high limits: %+v", f)
	}
}
