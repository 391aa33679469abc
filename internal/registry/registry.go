// Package registry runs kindlab's local container registry and keeps in it every
// image the chapter names, under the book's names, so that every node pulls
// through it: `image: nginx:latest` with no pull policy, `kubectl run --image=nginx`
// and the book's sidecar image work on a cluster that cannot reach any registry.
//
// The registry is CNCF Distribution, built by `kindlab images build`
// (images.RegistryImage). It runs as one container for every kindlab cluster, on
// the kind network under images.RegistryName, restarted by Docker, with its images
// on a named volume that outlives the container, every cluster and a reboot.
// kindlab pushes to it on 127.0.0.1 with go-containerregistry.
package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/runner"
)

const (
	// Volume keeps the registry's images.
	Volume = "kindlab-registry"
	// Network is kind's Docker network, where the nodes are.
	Network = "kind"
	// label marks the container as kindlab's.
	label = "dev.kindlab.registry"
)

// Errors a caller can tell apart.
var (
	// ErrImageMissing: the registry's image or the lab images are not built.
	ErrImageMissing = errors.New("registry image missing")
	// ErrPortTaken: something else listens on the registry's host port.
	ErrPortTaken = errors.New("registry port taken")
)

// Registry manages the local registry container.
type Registry struct {
	run   runner.Runner
	debug func(string)
	// HostPort is where it answers on 127.0.0.1.
	HostPort int
	// Images are what it must hold (the book's names).
	Images []string
}

// New returns a Registry that logs commands to debug (nil discards).
func New(debug io.Writer) *Registry {
	dbg := func(string) {}
	if debug != nil {
		dbg = func(s string) { fmt.Fprintln(debug, s) }
	}
	return &Registry{run: runner.Runner{Log: debug}, debug: dbg, HostPort: images.RegistryHostPort, Images: images.LabImages}
}

// Endpoint is the registry's address on this machine.
func (r *Registry) Endpoint() string { return fmt.Sprintf("127.0.0.1:%d", r.HostPort) }

// Status of the registry container.
type Status struct {
	// State is Docker's state of the container ("running", "exited", ...), or ""
	// when there is none.
	State string `json:"state"`
	// Endpoint is where it answers on this machine.
	Endpoint string `json:"endpoint"`
	// Images counts the book's images it holds ("6/6"); empty when it does not answer.
	Images string `json:"images,omitempty"`
	// Missing names the book's images it does not hold (or holds an older build of).
	Missing []string `json:"missing,omitempty"`
	Problem string   `json:"problem,omitempty"`
}

// Ensure makes the registry answer and hold every image: Start, then Fill.
func (r *Registry) Ensure(ctx context.Context) error {
	if err := r.Start(ctx); err != nil {
		return err
	}
	return r.Fill(ctx)
}

// Start makes the registry's container run: it creates it when missing (the
// volume keeps what it held), starts it when stopped and recreates it when its
// image was rebuilt. It does not wait for it to answer.
func (r *Registry) Start(ctx context.Context) error { return r.ensureContainer(ctx) }

// Fill waits until the started registry answers, connects it to the kind network
// when that exists, and pushes the images it lacks.
func (r *Registry) Fill(ctx context.Context) error {
	if err := r.waitAnswers(ctx, 30*time.Second); err != nil {
		return err
	}
	if err := r.ConnectNetwork(ctx); err != nil {
		return err
	}
	return r.Sync(ctx)
}

// upstream is Docker Hub's registry.
const upstream = "registry-1.docker.io"

// UpstreamReachable reports whether a container on this machine reaches Docker
// Hub's registry within a few seconds (a machine with internet): then nodes may
// fall back to it for names the local registry does not hold. It asks from this
// process first (where this machine cannot resolve or reach it, no container can:
// that answer is immediate and costs no container start while a cluster is being
// made), then from a container (a machine may keep its containers from the
// internet, as an egress guard does).
func (r *Registry) UpstreamReachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	dial, dialCancel := context.WithTimeout(ctx, 2*time.Second)
	conn, err := (&net.Dialer{}).DialContext(dial, "tcp", upstream+":443")
	dialCancel()
	if err != nil {
		r.debug(fmt.Sprintf("upstream registry not reachable from this machine: %v", err))
		return false
	}
	conn.Close()
	err = r.run.Run(ctx, "docker", "run", "--rm", "--network", "bridge", "--entrypoint", "curl", images.Debug,
		"-sS", "-o", "/dev/null", "--max-time", "3", "https://"+upstream+"/v2/")
	r.debug(fmt.Sprintf("upstream registry reachable from a container: %v", err == nil))
	return err == nil
}

// container returns the registry container's image ID and state ("" if none).
func (r *Registry) container(ctx context.Context) (imageID, state string, err error) {
	out, err := r.run.Output(ctx, "docker", "ps", "-a", "--filter", "name=^/"+images.RegistryName+"$", "--format", "{{.ID}}")
	if err != nil {
		return "", "", err
	}
	if strings.TrimSpace(out) == "" {
		return "", "", nil
	}
	out, err = r.run.Output(ctx, "docker", "inspect", "-f", "{{.Image}}\t{{.State.Status}}", images.RegistryName)
	if err != nil {
		return "", "", err
	}
	imageID, state, _ = strings.Cut(strings.TrimSpace(out), "\t")
	return imageID, state, nil
}

// inspectFormat prints ID|image|state for an image and a container alike.
const inspectFormat = `{{.Id}}|{{index . "Image"}}|{{with index . "State"}}{{.Status}}{{end}}`

func (r *Registry) ensureContainer(ctx context.Context) error {
	// One call in the common case (built image, running container): a cluster
	// create waits for it.
	// Docker formats with missingkey=error: an image has no .Image or .State, so
	// the template reads them with index, which gives nothing for a missing key.
	out, err := r.run.Output(ctx, "docker", "inspect", "-f", inspectFormat, images.RegistryImage, images.RegistryName)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err == nil && len(lines) == 2 {
		want, _, _ := strings.Cut(lines[0], "|")
		f := strings.Split(lines[1], "|")
		if len(f) == 3 && f[1] == want && f[2] == "running" {
			return nil
		}
	}
	want, err := r.run.Output(ctx, "docker", "image", "inspect", "-f", "{{.Id}}", images.RegistryImage)
	if err != nil {
		return fmt.Errorf("%w: %s is not built yet; run `sudo kindlab images build`", ErrImageMissing, images.RegistryImage)
	}
	have, state, err := r.container(ctx)
	if err != nil {
		return err
	}
	if have != "" && have != strings.TrimSpace(want) {
		r.debug("the registry's image was rebuilt: recreating its container (the volume keeps its images)")
		if err := r.run.Run(ctx, "docker", "rm", "-f", images.RegistryName); err != nil {
			return err
		}
		state = ""
	}
	switch state {
	case "running":
		return nil
	case "":
		if err := r.portFree(); err != nil {
			return err
		}
		args := []string{"run", "-d", "--name", images.RegistryName, "--restart=always",
			"--label", label + "=1",
			"-p", fmt.Sprintf("127.0.0.1:%d:%d", r.HostPort, images.RegistryPort),
			"-v", Volume + ":/var/lib/registry"}
		if r.networkExists(ctx) {
			args = append(args, "--network", Network)
		}
		if err := r.run.Run(ctx, "docker", append(args, images.RegistryImage)...); err != nil {
			// Another kindlab command may have made it a moment ago (the name is
			// taken): that one is kept. What this run made and could not start is not.
			if _, now, _ := r.container(context.WithoutCancel(ctx)); now == "running" {
				return nil
			}
			_ = r.run.Run(context.WithoutCancel(ctx), "docker", "rm", "-f", images.RegistryName)
			return fmt.Errorf("start the local registry: %w", err)
		}
		return nil
	default: // created, exited, paused, dead, restarting
		if state == "paused" {
			return r.run.Run(ctx, "docker", "unpause", images.RegistryName)
		}
		if err := r.run.Run(ctx, "docker", "start", images.RegistryName); err != nil {
			if perr := r.portFree(); perr != nil {
				return perr
			}
			return fmt.Errorf("start the local registry container %s (it was %s): %w; remove it with `docker rm -f %s` and run kindlab again (its images are kept in volume %s)",
				images.RegistryName, state, err, images.RegistryName, Volume)
		}
		return nil
	}
}

func (r *Registry) portFree() error {
	l, err := net.Listen("tcp", r.Endpoint())
	if err != nil {
		return fmt.Errorf("%w: %s is in use by another program (%v), and kindlab's local registry answers there; stop that program (`ss -ltnp 'sport = :%d'` shows it) and run kindlab again",
			ErrPortTaken, r.Endpoint(), err, r.HostPort)
	}
	return l.Close()
}

func (r *Registry) networkExists(ctx context.Context) bool {
	return r.run.Run(ctx, "docker", "network", "inspect", "-f", "{{.Name}}", Network) == nil
}

// ConnectNetwork puts the registry on the kind network, where the nodes reach it
// by name, if that network exists (kind makes it with the first cluster).
func (r *Registry) ConnectNetwork(ctx context.Context) error {
	if !r.networkExists(ctx) {
		return nil
	}
	connected := func() (bool, error) {
		out, err := r.run.Output(ctx, "docker", "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", images.RegistryName)
		return slices.Contains(strings.Fields(out), Network), err
	}
	if ok, err := connected(); ok || err != nil {
		return err
	}
	if err := r.run.Run(ctx, "docker", "network", "connect", Network, images.RegistryName); err != nil {
		if ok, _ := connected(); ok { // another kindlab command connected it meanwhile
			return nil
		}
		return fmt.Errorf("connect the local registry to the %s network: %w", Network, err)
	}
	return nil
}

// waitAnswers waits until the registry's API answers on this machine.
func (r *Registry) waitAnswers(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := "http://" + r.Endpoint() + "/v2/"
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			logs, _ := r.run.Output(context.WithoutCancel(ctx), "docker", "logs", "--tail", "5", images.RegistryName)
			return fmt.Errorf("the local registry (container %s) does not answer on %s after %s: %v; its last log lines: %s",
				images.RegistryName, r.Endpoint(), timeout, last, strings.TrimSpace(logs))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ref is where the registry keeps an image Docker calls img ("nginx:latest" is
// library/nginx:latest there, as a node asks its mirror for docker.io's).
func (r *Registry) ref(img string) (name.Reference, error) {
	full := images.ContainerdName(img)
	repo := strings.TrimPrefix(full, "docker.io/")
	return name.ParseReference(r.Endpoint()+"/"+repo, name.Insecure)
}

func (r *Registry) options(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuth(authn.Anonymous)}
}

// missing lists the images the registry does not hold, or holds another build of
// than Docker has (compared by config digest, which is Docker's image ID), or holds
// with compressed layers.
func (r *Registry) missing(ctx context.Context) ([]string, error) {
	out, err := r.run.Output(ctx, "docker", append([]string{"image", "inspect", "-f", "{{.Id}}"}, r.Images...)...)
	if err != nil {
		return nil, fmt.Errorf("%w: the lab images (%s) are not all built; run `sudo kindlab images build`", ErrImageMissing, strings.Join(r.Images, ", "))
	}
	ids := strings.Fields(out)
	if len(ids) != len(r.Images) {
		return nil, fmt.Errorf("docker image inspect: %d IDs for %d images", len(ids), len(r.Images))
	}
	var missing []string
	for i, img := range r.Images {
		ref, err := r.ref(img)
		if err != nil {
			return nil, err
		}
		desc, err := remote.Get(ref, r.options(ctx)...)
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			missing = append(missing, img)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ask the local registry for %s: %w", img, err)
		}
		held, err := desc.Image()
		if err != nil {
			return nil, err
		}
		m, err := held.Manifest()
		if err != nil {
			return nil, err
		}
		if m.Config.Digest.String() != ids[i] || !allUncompressed(m) {
			missing = append(missing, img)
		}
	}
	return missing, nil
}

// allUncompressed reports whether every layer is stored as the node image has it
// (rawImage).
func allUncompressed(m *v1.Manifest) bool {
	for _, l := range m.Layers {
		if l.MediaType != types.DockerUncompressedLayer {
			return false
		}
	}
	return true
}

// Sync pushes the images the registry lacks from Docker.
func (r *Registry) Sync(ctx context.Context) error {
	missing, err := r.missing(ctx)
	if err != nil || len(missing) == 0 {
		return err
	}
	r.debug(fmt.Sprintf("pushing %s to the local registry", strings.Join(missing, ", ")))
	f, err := os.CreateTemp("", "kindlab-registry-*.tar")
	if err != nil {
		return err
	}
	f.Close()
	defer os.Remove(f.Name())
	if err := r.run.Run(ctx, "docker", append([]string{"save", "-o", f.Name()}, missing...)...); err != nil {
		return err
	}
	push := map[name.Reference]remote.Taggable{}
	for _, img := range missing {
		tag, err := name.NewTag(img)
		if err != nil {
			return err
		}
		saved, err := tarball.ImageFromPath(f.Name(), &tag)
		if err != nil {
			return fmt.Errorf("read %s from docker save: %w", img, err)
		}
		image, err := uncompressed(saved)
		if err != nil {
			return fmt.Errorf("read %s from docker save: %w", img, err)
		}
		ref, err := r.ref(img)
		if err != nil {
			return err
		}
		push[ref] = image
	}
	if err := remote.MultiWrite(push, r.options(ctx)...); err != nil {
		return fmt.Errorf("push %s to the local registry: %w", strings.Join(missing, ", "), err)
	}
	return nil
}

// Status describes the registry; a missing or stopped one is described, not an error.
func (r *Registry) Status(ctx context.Context) Status {
	st := Status{Endpoint: r.Endpoint()}
	_, state, err := r.container(ctx)
	if err != nil {
		st.Problem = err.Error()
		return st
	}
	st.State = state
	if state != "running" {
		st.Problem = fmt.Sprintf("the local registry (container %s) is not running; `kindlab up` starts it", images.RegistryName)
		if state == "" {
			st.Problem = fmt.Sprintf("the local registry (container %s) does not exist; `kindlab up` creates it", images.RegistryName)
		}
		return st
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	missing, err := r.missing(ctx)
	if err != nil {
		st.Problem = err.Error()
		return st
	}
	st.Missing = missing
	st.Images = fmt.Sprintf("%d/%d", len(r.Images)-len(missing), len(r.Images))
	if len(missing) > 0 {
		st.Problem = "the local registry lacks " + strings.Join(missing, ", ") + "; `kindlab up` pushes them"
	}
	return st
}
