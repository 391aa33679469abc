package doctor

import (
	"os"
	"strconv"
	"strings"
)

// capNames are the Linux capabilities by number, as the OCI runtime spec names them.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// MissingCapabilities lists the capabilities the kernel knows but this process's
// bounding set lacks. Docker asks for all of them for a privileged container, so on
// such a machine `docker run --privileged` fails unless they are dropped.
func (d *Doctor) MissingCapabilities() []string {
	status := d.ProcStatus
	if status == "" {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return nil
		}
		status = string(b)
	}
	last := d.CapLastCap
	if last < 0 {
		b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
		if err != nil {
			return nil
		}
		last, err = strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return nil
		}
	}
	var bnd uint64
	found := false
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return nil
			}
			bnd, found = n, true
		}
	}
	if !found {
		return nil
	}
	var missing []string
	for i := 0; i <= last && i < len(capNames); i++ {
		if bnd&(1<<uint(i)) == 0 {
			missing = append(missing, capNames[i])
		}
	}
	return missing
}
