package cluster

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// thawNodes unfreezes every frozen cgroup below the cluster's node containers.
// runc freezes a container's cgroup while it sets one up; a node torn down at
// that moment (Ctrl-C, delete during a rollout) leaves the cgroup FROZEN, its
// processes cannot die, and `docker rm -f` fails with "did not receive an exit
// event" until it is thawed. Errors are ignored: this only helps a retry.
func (m *Manager) thawNodes(ctx context.Context, name string) {
	out, err := m.run.Output(ctx, "docker", "ps", "-aq", "--no-trunc", "--filter", "label=io.x-k8s.kind.cluster="+name)
	if err != nil {
		return
	}
	for _, id := range strings.Fields(out) {
		for _, root := range []string{
			"/sys/fs/cgroup/freezer/docker/" + id,                 // cgroup v1
			"/sys/fs/cgroup/system.slice/docker-" + id + ".scope", // cgroup v2, systemd driver
			"/sys/fs/cgroup/docker/" + id,                         // cgroup v2, cgroupfs driver
		} {
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return nil
				}
				switch d.Name() {
				case "freezer.state":
					if b, err := os.ReadFile(p); err == nil && bytes.HasPrefix(b, []byte("FROZEN")) {
						m.debug("thawing " + p)
						_ = os.WriteFile(p, []byte("THAWED"), 0o644)
					}
				case "cgroup.freeze":
					if b, err := os.ReadFile(p); err == nil && bytes.HasPrefix(b, []byte("1")) {
						m.debug("thawing " + p)
						_ = os.WriteFile(p, []byte("0"), 0o644)
					}
				}
				return nil
			})
		}
	}
}
