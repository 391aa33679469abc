package doctor

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Every kind node runs its own systemd, containerd and kubelet, each holding
// inotify instances of the host's user; with the kernel's default of 128
// instances, a few clusters on one machine fail with "too many open files".
// These are the values kind's documentation recommends.
var inotifyLimits = []struct {
	key  string
	want int
}{
	{"fs.inotify.max_user_instances", 512},
	{"fs.inotify.max_user_watches", 524288},
}

const sysctlConf = "/etc/sysctl.d/99-kindlab.conf"

func (d *Doctor) sysctlDir() string {
	if d.SysctlDir != "" {
		return d.SysctlDir
	}
	return "/proc/sys"
}

// lowInotify lists the limits below what several clusters need, as key=want.
func (d *Doctor) lowInotify() []string {
	var low []string
	for _, l := range inotifyLimits {
		data, err := os.ReadFile(filepath.Join(d.sysctlDir(), strings.ReplaceAll(l.key, ".", "/")))
		if err != nil {
			continue
		}
		if v, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && v < l.want {
			low = append(low, fmt.Sprintf("%s=%d", l.key, l.want))
		}
	}
	return low
}

func (d *Doctor) checkInotify() Finding {
	low := d.lowInotify()
	if len(low) == 0 {
		return Finding{Check: "inotify limits", Status: "ok", Detail: "high enough for several clusters"}
	}
	return Finding{Check: "inotify limits", Severity: Warn, Status: "warn",
		Detail: "one cluster works; more (kindlab class) fail with \"too many open files\"",
		Fix:    "sudo sysctl -w " + strings.Join(low, " ") + "   (or: kindlab doctor --fix)"}
}

// fixInotify raises the limits now and for the next boot.
func (d *Doctor) fixInotify(ctx context.Context, out io.Writer) error {
	low := d.lowInotify()
	if len(low) == 0 {
		return nil
	}
	if err := needRoot("raise the inotify limits"); err != nil {
		return err
	}
	if err := d.Run.Run(ctx, "sysctl", append([]string{"-w"}, low...)...); err != nil {
		return fmt.Errorf("sysctl: %w", err)
	}
	if _, err := writeIfChanged(sysctlConf, []byte("# kindlab: several kind clusters on one machine\n"+strings.Join(low, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "raised %s (kept in %s)\n", strings.Join(low, ", "), sysctlConf)
	return nil
}
