//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kindlab/kindlab/internal/class"
	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
	"github.com/kindlab/kindlab/internal/registry"
)

// bookDir holds the author's published chapter-6 files, verbatim.
func bookDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../../testdata/book/chapter6")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// kubectlBin is the cluster's own kubectl, as `kindlab shell` puts it first on PATH.
func kubectlBin(t testing.TB) string {
	k := filepath.Join(cacheDir(), "bin", images.DefaultKubernetesVersion, "kubectl")
	if _, err := os.Stat(k); err != nil {
		t.Fatalf("no kubectl at %s: %v", k, err)
	}
	return k
}

// kubectl runs the learner's commands against one cluster.
type kubectl struct {
	t          *testing.T
	bin        string
	kubeconfig string
	dir        string
	namespace  string
	// env is added to the command's environment.
	env []string
}

// run runs one command as a learner types it and returns its output; it fails the
// test when the command fails.
func (k kubectl) run(args ...string) string {
	k.t.Helper()
	out, err := k.try(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (k kubectl) try(args ...string) (string, error) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	full := []string{"--kubeconfig", k.kubeconfig}
	if k.namespace != "" {
		full = append(full, "-n", k.namespace)
	}
	cmd := exec.CommandContext(ctx, k.bin, append(full, args...)...)
	cmd.Dir = k.dir
	cmd.Env = append(os.Environ(), k.env...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	k.t.Logf("$ kubectl %s\n%s", strings.Join(args, " "), strings.TrimRight(trim(string(out)), "\n"))
	return string(out), err
}

// pullEvents returns the kubelet's image events of a pod, by reason.
func pullEvents(ctx context.Context, cs kubernetes.Interface, ns, pod string) map[string][]string {
	out := map[string][]string{}
	evs, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod})
	if err != nil {
		return out
	}
	for _, e := range evs.Items {
		out[e.Reason] = append(out[e.Reason], e.Message)
	}
	return out
}

func waitReadyIn(t *testing.T, ctx context.Context, cs kubernetes.Interface, ns string, selector string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil
		}
		pods = pods[:0]
		for _, p := range l.Items {
			if p.DeletionTimestamp == nil && kube.PodReady(&p) {
				pods = append(pods, p)
			}
		}
		return len(pods) == n, nil
	})
	if err != nil {
		l, _ := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
		var state []string
		for _, p := range l.Items {
			state = append(state, p.Name+": "+kube.PodProblem(&p))
		}
		t.Fatalf("%s: want %d Ready pods in %s: %v (%s)", selector, n, ns, err, strings.Join(state, "; "))
	}
	return pods
}

// pullsThroughTheRegistry: the book's first manifest as printed (nginx:latest, no
// pull policy, so the kubelet always asks a registry), `kubectl run t --image=nginx`
// and `kubectl create deployment web --image=nginx` start on a cluster that
// reaches no registry but kindlab's: the kubelet reports the pull, and the local
// registry's log has the requests. A name it does not hold fails at once.
func pullsThroughTheRegistry(t *testing.T, ctx context.Context, cs kubernetes.Interface, k kubectl) {
	const ns = "pull-through"
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	k.run("create", "namespace", ns)
	k.namespace = ns
	defer func() { k.namespace = ""; k.try("delete", "namespace", ns, "--wait=false") }()

	k.run("apply", "-f", filepath.Join(bookDir(t), "nginx-pod.yaml"))
	k.run("run", "t", "--image=nginx")
	k.run("create", "deployment", "web", "--image=nginx")
	for _, sel := range []string{"", "run=t", "app=web"} {
		waitReadyIn(t, ctx, cs, ns, sel, map[string]int{"": 3, "run=t": 1, "app=web": 1}[sel])
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		c := p.Spec.Containers[0]
		if c.ImagePullPolicy != corev1.PullAlways {
			t.Errorf("%s: pull policy %s, want Always (the book's %s has no tag or :latest)", p.Name, c.ImagePullPolicy, c.Image)
		}
		evs := pullEvents(ctx, cs, ns, p.Name)
		pulled := strings.Join(evs["Pulled"], " | ")
		if len(evs["Pulling"]) == 0 || !strings.Contains(pulled, "Successfully pulled") {
			t.Errorf("%s: the kubelet did not pull %s: events %v", p.Name, c.Image, evs)
		}
		t.Logf("%s: %s", p.Name, pulled)
	}
	logs, err := exec.CommandContext(ctx, "docker", "logs", "--since", since, images.RegistryName).CombinedOutput()
	if err != nil {
		t.Fatalf("docker logs %s: %v", images.RegistryName, err)
	}
	if !strings.Contains(string(logs), "/v2/library/nginx/manifests/latest") {
		t.Errorf("the local registry's log has no request for nginx:latest since %s:\n%s", since, trim(string(logs)))
	}

	// Offline, a name the registry does not hold fails in seconds, not after DNS time-outs.
	start := time.Now()
	k.run("run", "missing", "--image=nginx:1.99")
	var why string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(ns).Get(ctx, "missing", metav1.GetOptions{})
		if err != nil || len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
			return false, nil
		}
		w := p.Status.ContainerStatuses[0].State.Waiting
		why = w.Reason + ": " + w.Message
		return w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff", nil
	})
	if err != nil {
		t.Fatalf("a pod of nginx:1.99 did not fail to pull: %v (%s)", err, why)
	}
	t.Logf("nginx:1.99 failed to pull after %s: %s", time.Since(start).Round(100*time.Millisecond), trim(why))
	if !strings.Contains(why, "not found") {
		t.Errorf("want the registry's \"not found\" for nginx:1.99, got %q", why)
	}
}

// registryIsRepaired: the registry's container removed by hand, `kindlab up` puts
// it back with the images it held (its volume), and the port taken by another
// program gets a message that says what to do (exit 2).
func registryIsRepaired(t *testing.T, ctx context.Context, k cli) {
	reg := registry.New(nil)
	if out, err := exec.Command("docker", "rm", "-f", images.RegistryName).CombinedOutput(); err != nil {
		t.Fatalf("docker rm: %v %s", err, out)
	}
	l, err := net.Listen("tcp", reg.Endpoint())
	if err != nil {
		t.Fatalf("listen on the registry's port: %v", err)
	}
	code, out, errOut := k.run("up", "--no-fix")
	l.Close()
	if code != 2 || !strings.Contains(errOut, fmt.Sprintf("%s is in use", reg.Endpoint())) {
		t.Fatalf("up with the registry's port taken: exit %d, want 2 and a message naming the port\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	t.Logf("port taken: %s", lastLine(errOut))
	out = k.must(0, "up", "--no-fix")
	st := reg.Status(ctx)
	if st.State != "running" || len(st.Missing) != 0 {
		t.Fatalf("after up the registry is %+v\n%s", st, out)
	}
	if !strings.Contains(out, "registry:") {
		t.Errorf("up's status shows no registry line:\n%s", out)
	}
}

// TestTheBookWordForWord types the book: on one cluster, the pull-through registry
// first, then a kindlab user's repairs of it.
func TestTheBookWordForWord(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	m := newManager(t)
	name := "kindlab-e2e-book"
	createCluster(t, ctx, m, name, freePort(t))
	_, cs := clients(t, m, name)
	kc, err := m.Kubeconfig(name)
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kcPath, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	k := kubectl{t: t, bin: kubectlBin(t), kubeconfig: kcPath, dir: work}

	t.Run("book images pull through the local registry", func(t *testing.T) {
		k.t = t
		pullsThroughTheRegistry(t, ctx, cs, k)
	})
	bin := buildKindlab(t)
	t.Run("the registry is repaired by kindlab up", func(t *testing.T) {
		registryIsRepaired(t, ctx, cli{t: t, bin: bin, state: t.TempDir(), base: []string{"--cluster", name}})
	})

	t.Run("a failing check says why from the cluster's state", func(t *testing.T) {
		k.t = t
		const ns = "offline-miss"
		k.run("create", "namespace", ns)
		defer k.try("delete", "namespace", ns, "--wait=false")
		k.namespace = ns
		defer func() { k.namespace = "" }()
		kl := cli{t: t, bin: bin, state: t.TempDir(), base: []string{"--cluster", name, "-n", ns, "--lang", "en"}}
		// diagnosed waits until `kindlab check LAB` fails and says all of want, and
		// until its JSON carries the same diagnosis.
		diagnosed := func(lab string, want ...string) {
			t.Helper()
			var out string
			eventually(t, ctx, "kindlab check "+lab+" says why", func(context.Context) error {
				var code int
				code, out, _ = kl.run("check", lab)
				if code != 1 {
					return fmt.Errorf("exit %d, want 1", code)
				}
				if err := contains(out, want...); err != nil {
					return err
				}
				_, js, _ := kl.run("check", lab, "-o", "json")
				var steps []struct{ Results []struct{ Diagnosis string } }
				if err := json.Unmarshal([]byte(js), &steps); err != nil {
					return err
				}
				for _, st := range steps {
					for _, r := range st.Results {
						if strings.Contains(r.Diagnosis, want[len(want)-1]) {
							return nil
						}
					}
				}
				return fmt.Errorf("no diagnosis in the JSON of kindlab check %s says %q", lab, want[len(want)-1])
			})
			t.Logf("kindlab check %s:\n%s", lab, out)
		}
		// kubectl -f splits its argument at commas: a file's path has none.
		files, err := os.MkdirTemp("", "kindlab-e2e-files")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(files)
		write := func(name, body string) string {
			p := filepath.Join(files, name)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}

		// A tag the offline registry does not have.
		k.run("run", "my-nginx-pod", "--image=nginx:1.99")
		diagnosed("pod", "nginx:1.99", "nginx:latest", "alicek106/rr-test:curl", "not available offline")
		k.run("delete", "pod", "my-nginx-pod", "--wait=true", "--grace-period=0", "--force")

		// A container that ends in error: its code and its own last word.
		k.run("run", "my-nginx-pod", "--image=nginx:latest", "--restart=Never", "--command", "--", "sh", "-c", "echo starting; echo 'nginx: [emerg] open() \"/etc/nginx/nginx.conf\" failed'; exit 3")
		diagnosed("pod", `container my-nginx-pod of pod my-nginx-pod exited with code 3 (Error); its last log line: nginx: [emerg] open() "/etc/nginx/nginx.conf" failed`)
		k.run("delete", "pod", "my-nginx-pod", "--wait=true", "--grace-period=0", "--force")

		// A readiness probe that fails: the kubelet's last word about the pod.
		k.run("apply", "-f", write("probe.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: my-nginx-pod
spec:
  containers:
  - name: my-nginx-container
    image: nginx:latest
    readinessProbe:
      httpGet: {path: /healthz, port: 80}
      periodSeconds: 1
`))
		diagnosed("pod", "pod my-nginx-pod is not Ready — Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404")
		k.run("delete", "pod", "my-nginx-pod", "--wait=true", "--grace-period=0", "--force")

		// A readiness that flaps (Ready for 3s, not for 3s) never passes the
		// check, however often it is asked, nor records the step done.
		k.run("apply", "-f", write("flap.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: my-nginx-pod
spec:
  containers:
  - name: my-nginx-container
    image: nginx:latest
    readinessProbe:
      exec:
        command: ["sh", "-c", "test $(( $(date +%s) / 3 % 2 )) -eq 0"]
      periodSeconds: 1
      failureThreshold: 1
`))
		sawReady := false
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(700 * time.Millisecond) {
			code, out, _ := kl.run("check", "pod")
			if code != 1 || strings.Contains(out, "✓ create-pod") {
				t.Fatalf("a flapping readiness passed the pod step (exit %d):\n%s", code, out)
			}
			sawReady = sawReady || strings.Contains(out, "is Ready, but its readiness probe failed")
		}
		if !sawReady {
			t.Errorf("in 20s the flapping pod was never seen Ready and refused for its probe's failures")
		}

		// A Service whose selector has a typo: the pod that comes closest.
		k.run("run", "hostname-a", "--image=alicek106/rr-test:echo-hostname", "--labels=app=webserver")
		k.run("apply", "-f", write("svc.yaml", `apiVersion: v1
kind: Service
metadata:
  name: hostname-svc-clusterip
spec:
  ports:
  - name: web-port
    port: 8080
    targetPort: 80
  selector:
    app: webserverx
  type: ClusterIP
`))
		diagnosed("service-clusterip", "selector app=webserverx matches no pod — closest: pod hostname-a (app=webserverx wanted, app=webserver found)")
	})

	// The chapter in the book's order, in one namespace, with the book's files and
	// commands: after each lab's commands `kindlab grade LAB` exits 0; then the
	// book's own clean-up, which leaves what the book leaves (a debug pod of
	// `kubectl run --rm` still terminating, the pod the labels lab orphans, the
	// hostname-deployment the Service sections share).
	k.namespace = ""
	grader := cli{t: t, bin: bin, state: t.TempDir(), base: []string{"--cluster", name}}
	// The most pods the chapter holds at once in its namespace: a learner's quota in
	// a class (class.FairShare) must let the whole book run.
	peakCtx, stopPeak := context.WithCancel(ctx)
	peak := make(chan int, 1)
	go func() {
		most := 0
		for peakCtx.Err() == nil {
			if l, err := cs.CoreV1().Pods("default").List(peakCtx, metav1.ListOptions{}); err == nil {
				n := 0
				for _, p := range l.Items {
					if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
						n++
					}
				}
				most = max(most, n)
			}
			select {
			case <-peakCtx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
		peak <- most
	}()
	defer func() {
		stopPeak()
		most := <-peak
		t.Logf("the chapter held at most %d pods at once in its namespace (a class learner's quota: %d)", most, class.FairShare.Pods)
		if most > class.FairShare.Pods {
			t.Errorf("the book needs %d pods at once, more than a class learner's quota of %d", most, class.FairShare.Pods)
		}
	}()
	for _, l := range bookLabs {
		if !onlyLabs(l.id) {
			continue
		}
		ok := t.Run("book/"+l.id, func(t *testing.T) {
			k.t, grader.t = t, t
			start := time.Now()
			for _, f := range l.files {
				copyFile(t, filepath.Join(bookDir(t), f), filepath.Join(work, f))
			}
			l.do(bookRun{t: t, ctx: ctx, cs: cs, k: k})
			code, out, errOut := grader.run("grade", l.id, "--timeout", "2m")
			if code != 0 {
				t.Fatalf("kindlab grade %s after the book's commands: exit %d, want 0\n%s\n%s", l.id, code, out, errOut)
			}
			t.Logf("graded %s: %s (%s)", l.id, lastLine(out), time.Since(start).Round(100*time.Millisecond))
			if l.cleanup != nil {
				l.cleanup(bookRun{t: t, ctx: ctx, cs: cs, k: k})
			}
		})
		if !ok {
			break // the next lab starts where this one should have ended
		}
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// bookRun is what a lab's book commands run with.
type bookRun struct {
	t   *testing.T
	ctx context.Context
	cs  kubernetes.Interface
	k   kubectl
}

// ready waits until n pods of selector are Ready and returns them.
func (r bookRun) ready(selector string, n int) []corev1.Pod {
	r.t.Helper()
	return waitReadyIn(r.t, r.ctx, r.cs, "default", selector, n)
}

// debug is the book's `kubectl run -i --tty --rm debug --image=alicek106/ubuntu:curl
// --restart=Never -- ...` (no terminal here: kubectl says so and goes on), typed
// again, as a learner would, until its output has want: a Service just created
// takes a moment to answer.
func (r bookRun) debug(want string, args ...string) {
	r.t.Helper()
	eventually(r.t, r.ctx, "kubectl run debug -- "+strings.Join(args, " "), func(context.Context) error {
		out, err := r.k.try(append([]string{"run", "-i", "--tty", "--rm", "debug", "--image=alicek106/ubuntu:curl", "--restart=Never", "--"}, args...)...)
		if err != nil {
			return fmt.Errorf("%v: %s", err, trim(out))
		}
		return contains(out, want)
	})
}

// bookLab is one lab as the book does it.
type bookLab struct {
	id      string
	files   []string
	do      func(bookRun)
	cleanup func(bookRun)
}

var bookLabs = []bookLab{
	{id: "pod", files: []string{"nginx-pod.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "nginx-pod.yaml")
		ip := r.ready("", 1)[0].Status.PodIP
		r.k.run("get", "pods", "-o", "wide")
		r.debug("Welcome to nginx!", "curl", ip)
		r.k.run("describe", "pods", "my-nginx-pod")
		r.k.run("exec", "my-nginx-pod", "--", "hostname")
		r.k.run("logs", "my-nginx-pod")
	}, cleanup: func(r bookRun) { r.k.run("delete", "-f", "nginx-pod.yaml") }},

	{id: "sidecar", files: []string{"nginx-pod-with-ubuntu.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "nginx-pod-with-ubuntu.yaml")
		r.ready("", 1)
		if out := r.k.run("exec", "my-nginx-pod", "-c", "ubuntu-sidecar-container", "--", "curl", "localhost"); !strings.Contains(out, "Welcome to nginx!") {
			r.t.Fatal("curl localhost from the sidecar: no welcome page")
		}
	}, cleanup: func(r bookRun) { r.k.run("delete", "-f", "nginx-pod-with-ubuntu.yaml") }},

	{id: "replicaset", files: []string{"replicaset-nginx.yaml", "replicaset-nginx-4pods.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "replicaset-nginx.yaml")
		pods := r.ready("app=my-nginx-pods-label", 3)
		r.k.run("get", "pods", "--show-labels")
		r.k.run("delete", "pods", pods[0].Name)
		r.ready("app=my-nginx-pods-label", 3)
		r.k.run("apply", "-f", "replicaset-nginx-4pods.yaml")
		r.ready("app=my-nginx-pods-label", 4)
	}, cleanup: func(r bookRun) { r.k.run("delete", "rs", "replicaset-nginx") }},

	{id: "labels", files: []string{"nginx-pod-without-rs.yaml", "replicaset-nginx.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "nginx-pod-without-rs.yaml")
		r.ready("app=my-nginx-pods-label", 1)
		r.k.run("apply", "-f", "replicaset-nginx.yaml")
		r.ready("app=my-nginx-pods-label", 3)
		r.k.run("get", "pods", "--show-labels")
		r.k.run("delete", "pods", "my-nginx-pod")
		pods := r.ready("app=my-nginx-pods-label", 3)
		// kubectl edit pods NAME, deleting the label's line in the editor.
		k := r.k
		k.env = []string{"KUBE_EDITOR=sed -i /app:.my-nginx-pods-label/d"}
		k.run("edit", "pods", pods[0].Name)
		r.ready("app=my-nginx-pods-label", 3)
		r.k.run("get", "pods", "-l", "app=my-nginx-pods-label")
	}, cleanup: func(r bookRun) { r.k.run("delete", "rs", "replicaset-nginx") }},

	{id: "match-expressions", files: []string{"replicaset-nginx-match-expression.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "replicaset-nginx-match-expression.yaml")
		r.ready("app=our-nginx-pods-label", 3)
		r.k.run("get", "rs", "-o", "wide")
	}, cleanup: func(r bookRun) { r.k.run("delete", "-f", "replicaset-nginx-match-expression.yaml") }},

	{id: "deployment", files: []string{"deployment-nginx.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "deployment-nginx.yaml", "--record")
		r.ready("app=my-nginx", 3)
		r.k.run("set", "image", "deployment", "my-nginx-deployment", "nginx=nginx:1.11", "--record")
		r.k.run("rollout", "status", "deployment", "my-nginx-deployment", "--timeout=2m")
		r.k.run("rollout", "history", "deployment", "my-nginx-deployment")
		r.k.run("rollout", "undo", "deployment", "my-nginx-deployment", "--to-revision=1")
		r.k.run("rollout", "status", "deployment", "my-nginx-deployment", "--timeout=2m")
		r.k.run("get", "rs")
	}, cleanup: func(r bookRun) { r.k.run("delete", "deploy", "my-nginx-deployment") }},

	{id: "service-clusterip", files: []string{"deployment-hostname.yaml", "hostname-svc-clusterip.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "deployment-hostname.yaml")
		r.ready("app=webserver", 3)
		r.k.run("get", "pods", "-o", "wide")
		r.k.run("apply", "-f", "hostname-svc-clusterip.yaml")
		r.k.run("get", "services")
		r.k.run("get", "ep")
		r.debug("Hello", "curl", "hostname-svc-clusterip:8080", "--silent")
	}, cleanup: func(r bookRun) { r.k.run("delete", "svc", "hostname-svc-clusterip") }},

	{id: "service-nodeport", files: []string{"hostname-svc-nodeport.yaml", "hostname-svc-nodeport-custom.yaml", "hostname-svc-nodeport-affinity.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "hostname-svc-nodeport.yaml")
		r.k.run("get", "services")
		r.k.run("get", "nodes", "-o", "wide")
		r.k.run("apply", "-f", "hostname-svc-nodeport-custom.yaml")
		r.k.run("apply", "-f", "hostname-svc-nodeport-affinity.yaml")
		r.debug("Hello", "curl", "hostname-svc-nodeport-affinity", "--silent")
	}},

	{id: "service-loadbalancer", files: []string{"hostname-svc-lb.yaml", "hostname-svc-lb-local.yaml", "hostname-svc-nlb.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "hostname-svc-lb.yaml")
		r.k.run("get", "services")
		r.k.run("apply", "-f", "hostname-svc-lb-local.yaml")
		r.k.run("scale", "deployment", "hostname-deployment", "--replicas=1")
		r.k.run("get", "pods", "-o", "wide")
		r.k.run("apply", "-f", "hostname-svc-nlb.yaml")
		r.k.run("describe", "svc", "hostname-svc-nlb")
	}},

	{id: "service-externalname", files: []string{"external-svc.yaml"}, do: func(r bookRun) {
		r.k.run("apply", "-f", "external-svc.yaml")
		r.k.run("get", "svc", "externalname-svc")
	}},
}
