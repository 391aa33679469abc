//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
)

const e2eCluster = "kindlab-e2e"

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newManager(t testing.TB) *cluster.Manager {
	return cluster.New(cluster.Options{Progress: func(p cluster.Progress) {
		if p.Done || p.Failed {
			t.Logf("%s (%s, failed=%v)", p.Step, p.Elapsed.Round(100*time.Millisecond), p.Failed)
		}
	}})
}

// createCluster makes a fresh cluster for a test and deletes it afterwards.
func createCluster(t *testing.T, ctx context.Context, m *cluster.Manager, name string, hostPort int) {
	t.Helper()
	createClusterOf(t, ctx, m, name, hostPort, 1)
}

// createClusterOf is createCluster with nodes nodes.
func createClusterOf(t *testing.T, ctx context.Context, m *cluster.Manager, name string, hostPort, nodes int) {
	t.Helper()
	if ok, _ := m.Exists(name); ok {
		if err := m.Delete(ctx, name, ""); err != nil {
			t.Fatalf("delete leftover cluster: %v", err)
		}
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	start := time.Now()
	if err := m.Create(ctx, cluster.CreateOptions{Name: name, HostPort: hostPort, KubeconfigPath: kubeconfig, Nodes: nodes}); err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	t.Logf("cluster %s (%d node(s)) ready in %s", name, nodes, time.Since(start).Round(100*time.Millisecond))
	t.Cleanup(func() {
		if err := m.Delete(context.Background(), name, kubeconfig); err != nil {
			t.Errorf("delete cluster: %v", err)
		}
	})
}

func clients(t *testing.T, m *cluster.Manager, name string) (*rest.Config, kubernetes.Interface) {
	return clientsB(t, m, name)
}

func clientsB(t testing.TB, m *cluster.Manager, name string) (*rest.Config, kubernetes.Interface) {
	t.Helper()
	kc, err := m.Kubeconfig(name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kube.RESTConfigFromKubeconfig([]byte(kc), "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, cs
}

func pod(name, image string, labels map[string]string, cmd ...string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: image, Command: cmd, ImagePullPolicy: corev1.PullIfNotPresent,
		}}},
	}
}

// withVolume mounts the claim of that name at path in p's container.
func withVolume(p *corev1.Pod, claim, path string) *corev1.Pod {
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: claim, VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: claim, MountPath: path})
	return p
}

func waitPodsReady(t *testing.T, ctx context.Context, cs kubernetes.Interface, names ...string) map[string]*corev1.Pod {
	t.Helper()
	got := map[string]*corev1.Pod{}
	err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, n := range names {
			p, err := cs.CoreV1().Pods("default").Get(ctx, n, metav1.GetOptions{})
			if err != nil || !kube.PodReady(p) {
				return false, nil
			}
			got[n] = p
		}
		return true, nil
	})
	if err != nil {
		var state []string
		for _, n := range names {
			if p, err := cs.CoreV1().Pods("default").Get(context.Background(), n, metav1.GetOptions{}); err == nil {
				state = append(state, n+": "+kube.PodProblem(p))
			}
		}
		t.Fatalf("pods not Ready: %v (%s)", err, strings.Join(state, "; "))
	}
	return got
}

// eventually retries fn until it returns nil or the timeout passes, and fails the
// test with the last error: Services and DNS take a moment to be programmed.
func eventually(t *testing.T, ctx context.Context, what string, fn func(context.Context) error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		last = fn(ctx)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v (last: %v)", what, err, last)
	}
}

func contains(body string, want ...string) error {
	for _, w := range want {
		if !strings.Contains(body, w) {
			return fmt.Errorf("reply %q lacks %q", trim(body), w)
		}
	}
	return nil
}

func trim(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

func hostGet(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestClusterServesEveryLabImage is the foundation's end-to-end proof: a cluster from
// kindlab's own images runs a pod of each lab image, and nginx and echo-hostname
// answer by pod IP, through a ClusterIP Service (by DNS name) and a NodePort Service,
// from inside the cluster and from the host; a claim of the default StorageClass is
// bound by the local-path provisioner and keeps what a pod writes.
func TestClusterServesEveryLabImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	m := newManager(t)
	hostPort := freePort(t)
	createCluster(t, ctx, m, e2eCluster, hostPort)
	cfg, cs := clients(t, m, e2eCluster)

	pods := []*corev1.Pod{
		pod("nginx-old", images.NginxV1, map[string]string{"app": "nginx-old"}),
		pod("nginx-new", images.NginxV2, map[string]string{"app": "nginx-new"}),
		pod("nginx-latest", images.NginxLatest, nil),
		pod("echo", images.EchoHostname, map[string]string{"app": "webserver"}),
		pod("debug", images.Debug, nil, "sleep", "infinity"),
		withVolume(pod("storage", images.Debug, nil, "sh", "-c", "echo kept > /data/file && sleep infinity"), "data", "/data"),
	}
	// kind's default storage: a claim of the default StorageClass, which the
	// local-path provisioner binds once the pod is scheduled (its helper pod makes
	// the directory on the node).
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Mi")}},
		},
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("default").Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create claim: %v", err)
	}
	for _, p := range pods {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s: %v", p.Name, err)
		}
	}
	ready := waitPodsReady(t, ctx, cs, "nginx-old", "nginx-new", "nginx-latest", "echo", "debug", "storage")
	if res, err := kube.Exec(ctx, cfg, cs, "default", "storage", "main", "cat", "/data/file"); err != nil || res.Stdout != "kept\n" {
		t.Errorf("file on the provisioned volume: %v %q", err, res.Stdout)
	}
	if got, err := cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "data", metav1.GetOptions{}); err != nil || got.Status.Phase != corev1.ClaimBound {
		t.Errorf("claim not bound: %v %+v", err, got.Status)
	} else if sc := got.Spec.StorageClassName; sc == nil || *sc != "standard" {
		t.Errorf("claim's StorageClass = %v, want kind's default %q", sc, "standard")
	}

	svc := func(name string, typ corev1.ServiceType, selector string, nodePort int32) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.ServiceSpec{
				Type: typ, Selector: map[string]string{"app": selector},
				Ports: []corev1.ServicePort{{Name: "web-port", Port: 8080, TargetPort: intstr.FromInt32(80), NodePort: nodePort}},
			},
		}
	}
	for _, s := range []*corev1.Service{
		svc("nginx-clusterip", corev1.ServiceTypeClusterIP, "nginx-old", 0),
		svc("hostname-svc-nodeport", corev1.ServiceTypeNodePort, "webserver", cluster.DefaultHostPort),
	} {
		if _, err := cs.CoreV1().Services("default").Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create service %s: %v", s.Name, err)
		}
	}

	curl := func(url string, want ...string) func(context.Context) error {
		return func(ctx context.Context) error {
			res, err := kube.Exec(ctx, cfg, cs, "default", "debug", "main", "curl", "-sS", "--max-time", "3", url)
			if err != nil {
				return err
			}
			return contains(res.Stdout, want...)
		}
	}
	eventually(t, ctx, "nginx 1.10 by pod IP", curl("http://"+ready["nginx-old"].Status.PodIP, "Welcome to nginx!", "nginx:1.10"))
	eventually(t, ctx, "nginx 1.11 by pod IP", curl("http://"+ready["nginx-new"].Status.PodIP+"/version", "1.11"))
	eventually(t, ctx, "nginx latest by pod IP", curl("http://"+ready["nginx-latest"].Status.PodIP, "Welcome to nginx!"))
	eventually(t, ctx, "echo-hostname by pod IP", curl("http://"+ready["echo"].Status.PodIP, "Hello, echo"))
	eventually(t, ctx, "ClusterIP Service by DNS name", curl("http://nginx-clusterip.default.svc.cluster.local:8080", "nginx:1.10"))
	eventually(t, ctx, "NodePort Service inside the cluster", curl("http://hostname-svc-nodeport:8080", "Hello, echo"))

	nodeIP, err := m.NodeAddress(ctx, e2eCluster)
	if err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{
		fmt.Sprintf("http://%s:%d/", nodeIP, cluster.DefaultHostPort),
		fmt.Sprintf("http://127.0.0.1:%d/", hostPort),
	} {
		eventually(t, ctx, "NodePort from the host at "+url, func(ctx context.Context) error {
			body, err := hostGet(ctx, url)
			if err != nil {
				return err
			}
			return contains(body, "Hello, echo")
		})
	}

	// The debug image carries the book's tools.
	eventually(t, ctx, "DNS tools in the debug image", func(ctx context.Context) error {
		res, err := kube.Exec(ctx, cfg, cs, "default", "debug", "main", "dig", "+short", "kubernetes.default.svc.cluster.local")
		if err != nil {
			return err
		}
		return contains(res.Stdout, "10.96.0.1")
	})
	if res, err := kube.Exec(ctx, cfg, cs, "default", "debug", "main", "ip", "-o", "addr", "show", "eth0"); err != nil || !strings.Contains(res.Stdout, ready["debug"].Status.PodIP) {
		t.Errorf("ip addr in debug pod: %v %q", err, res.Stdout)
	}
	loadBalancerServesFromHost(t, ctx, cs)

	// nginx logs requests to the container's output, as `kubectl logs` shows in the book.
	logs, err := cs.CoreV1().Pods("default").GetLogs("nginx-old", &corev1.PodLogOptions{}).Do(ctx).Raw()
	if err != nil || !strings.Contains(string(logs), "GET / ") {
		t.Errorf("nginx logs lack the request: %v %q", err, trim(string(logs)))
	}

	survivesARestart(t, ctx, cfg, cs, ready, hostPort)
}

// survivesARestart stops the cluster's node as a machine restart does: a learner's
// command then says to run `kindlab up`, which starts it again with everything in
// it — the same pods (by UID), the file on the provisioned volume — serving as
// before: by Service name inside, by NodePort from the host.
func survivesARestart(t *testing.T, ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, before map[string]*corev1.Pod, hostPort int) {
	k := cli{t: t, bin: buildKindlab(t), state: t.TempDir(), base: []string{"--cluster", e2eCluster}}
	node := e2eCluster + "-control-plane"
	if out, err := exec.CommandContext(ctx, "docker", "stop", node).CombinedOutput(); err != nil {
		t.Fatalf("docker stop: %v %s", err, out)
	}
	if code, _, errOut := k.run("grade", "pod"); code != 2 || !strings.Contains(errOut, "kindlab up --cluster "+e2eCluster) {
		t.Errorf("grade on a stopped cluster: exit %d, want 2 and a message naming `kindlab up`:\n%s", code, errOut)
	}
	start := time.Now()
	out := k.must(0, "up", "--no-fix")
	t.Logf("stopped → ready (`kindlab up`): %s\n%s", time.Since(start).Round(100*time.Millisecond), out)
	for _, want := range []string{"Starting the node containers", "Waiting for the node and the system pods", "ready:"} {
		if !strings.Contains(out, want) {
			t.Errorf("`kindlab up` after a restart does not say %q:\n%s", want, out)
		}
	}
	names := make([]string, 0, len(before))
	for n := range before {
		names = append(names, n)
	}
	after := waitPodsReady(t, ctx, cs, names...)
	for n, p := range before {
		if after[n].UID != p.UID {
			t.Errorf("pod %s was recreated (UID %s, was %s)", n, after[n].UID, p.UID)
		}
	}
	eventually(t, ctx, "the file on the provisioned volume after the restart", func(ctx context.Context) error {
		res, err := kube.Exec(ctx, cfg, cs, "default", "storage", "main", "cat", "/data/file")
		if err != nil {
			return err
		}
		return contains(res.Stdout, "kept")
	})
	eventually(t, ctx, "ClusterIP Service by DNS name after the restart", func(ctx context.Context) error {
		res, err := kube.Exec(ctx, cfg, cs, "default", "debug", "main", "curl", "-sS", "--max-time", "3", "http://nginx-clusterip.default.svc.cluster.local:8080")
		if err != nil {
			return err
		}
		return contains(res.Stdout, "nginx:1.10")
	})
	eventually(t, ctx, "NodePort from the host after the restart", func(ctx context.Context) error {
		body, err := hostGet(ctx, fmt.Sprintf("http://127.0.0.1:%d/", hostPort))
		if err != nil {
			return err
		}
		return contains(body, "Hello, echo")
	})
}

// TestClusterErrors checks the errors a learner meets most, without creating anything.
func TestClusterErrors(t *testing.T) {
	ctx := context.Background()
	m := newManager(t)
	err := m.Create(ctx, cluster.CreateOptions{Name: "kindlab-e2e-noimage", KubernetesVersion: "v0.0.1-missing", HostPort: 0})
	if !errors.Is(err, cluster.ErrImageMissing) || !strings.Contains(err.Error(), "kindlab images build") {
		t.Errorf("create with a missing node image: %v, want ErrImageMissing that says how to build it", err)
	}
	if ok, _ := m.Exists("kindlab-e2e-noimage"); ok {
		t.Error("a failed create left a cluster behind")
	}
	err = m.Delete(ctx, "kindlab-e2e-does-not-exist", "")
	if !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("delete of a missing cluster: %v, want ErrNotFound", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	err = m.Create(ctx, cluster.CreateOptions{Name: "kindlab-e2e-port", HostPort: l.Addr().(*net.TCPAddr).Port})
	if !errors.Is(err, cluster.ErrPortTaken) {
		t.Errorf("create with a taken host port: %v, want ErrPortTaken", err)
	}
	st, err := m.Status(ctx, "kindlab-e2e-does-not-exist")
	if err != nil || st.Exists || !strings.Contains(st.Problem, "kindlab cluster create") {
		t.Errorf("status of a missing cluster = %+v, %v", st, err)
	}
}

// loadBalancerServesFromHost applies the book's LoadBalancer Service over the
// echo-hostname pod ten times: each time an address appears in the status and answers
// from the host; after a delete the address is released (the next Service gets it
// again). It logs the time from create to a reachable address (p50/max).
func loadBalancerServesFromHost(t *testing.T, ctx context.Context, cs kubernetes.Interface) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "hostname-svc-lb"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "webserver"},
			Ports: []corev1.ServicePort{{Name: "web-port", Port: 80, TargetPort: intstr.FromInt32(80)}}},
	}
	var lat []time.Duration
	first := ""
	for i := 0; i < 10; i++ {
		start := time.Now()
		if _, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create LoadBalancer Service: %v", err)
		}
		var addr string
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			s, err := cs.CoreV1().Services("default").Get(ctx, svc.Name, metav1.GetOptions{})
			if err != nil || len(s.Status.LoadBalancer.Ingress) == 0 {
				return false, nil
			}
			addr = s.Status.LoadBalancer.Ingress[0].IP
			body, err := hostGet(ctx, "http://"+addr+"/")
			return err == nil && strings.Contains(body, "Hello, echo"), nil
		})
		if err != nil {
			t.Fatalf("LoadBalancer Service: no address that answers from the host (%q): %v", addr, err)
		}
		lat = append(lat, time.Since(start))
		if first == "" {
			first = addr
		} else if addr != first {
			t.Errorf("run %d got address %s; the deleted Service's %s was not released", i+1, addr, first)
		}
		if err := cs.CoreV1().Services("default").Delete(ctx, svc.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := cs.CoreV1().Services("default").Get(ctx, svc.Name, metav1.GetOptions{})
			return err != nil, nil
		})
	}
	sorted := append([]time.Duration(nil), lat...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	t.Logf("LoadBalancer %s: create to reachable from the host over %d runs: p50 %s, max %s", first, len(lat),
		sorted[len(sorted)/2].Round(10*time.Millisecond), sorted[len(sorted)-1].Round(10*time.Millisecond))
}
