package images

import (
	"context"
	"os"
	"path/filepath"
)

// registryConfig is the local registry's configuration: images on the volume
// kindlab mounts at /var/lib/registry (so they outlive the container and every
// cluster), deletes allowed (a learner may clean up what they pushed), one log
// line per request at info level (an end-to-end test reads them to prove a pull
// went through the registry).
const registryConfig = `version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
`

// buildRegistry images CNCF Distribution's registry, built from its Go source.
func (b *Builder) buildRegistry(ctx context.Context) error {
	tmp, err := os.MkdirTemp(b.dir("tmp"), "registry-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg := filepath.Join(tmp, "config.yml")
	if err := os.WriteFile(cfg, []byte(registryConfig), 0o644); err != nil {
		return err
	}
	// No tracing exporter: nothing to send traces to, and no connection attempts.
	return b.buildImage(ctx, []string{RegistryImage}, `FROM scratch
COPY registry /bin/registry
COPY config.yml /etc/distribution/config.yml
ENV OTEL_TRACES_EXPORTER=none
VOLUME /var/lib/registry
EXPOSE 5000
ENTRYPOINT ["/bin/registry"]
CMD ["serve", "/etc/distribution/config.yml"]
`, map[string]string{"registry": b.dir("bin", b.opts.KubernetesVersion, "registry"), "config.yml": cfg})
}
