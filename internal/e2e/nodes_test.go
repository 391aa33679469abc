//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/kindlab/kindlab/internal/cluster"
	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
)

// networkAcrossNodes proves the pod network of a cluster of several nodes, in a
// namespace of its own that it deletes: pods reach pods on other nodes, a
// ClusterIP Service and the cluster DNS answer pods on every node, the NodePort
// answers on every node's address, and with externalTrafficPolicy Local only on
// the nodes that run one of the Service's pods, with the client's address kept.
func networkAcrossNodes(t *testing.T, ctx context.Context, cfg *rest.Config, cs kubernetes.Interface) {
	const ns = "e2e-nodes"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) < 2 {
		t.Fatalf("%d node(s); this proof needs several", len(nodes.Items))
	}
	addr := map[string]string{} // node name → InternalIP
	for _, n := range nodes.Items {
		if !kube.NodeReady(&n) {
			t.Errorf("node %s is not Ready", n.Name)
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				addr[n.Name] = a.Address
			}
		}
	}
	// Every per-node component runs on every node.
	for _, d := range []struct{ ns, name string }{{"kube-system", "kube-proxy"}, {"kube-system", "kube-flannel"}, {"metallb-system", "speaker"}} {
		eventually(t, ctx, d.name+" on every node", func(ctx context.Context) error {
			ds, err := cs.AppsV1().DaemonSets(d.ns).Get(ctx, d.name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if int(ds.Status.NumberReady) != len(nodes.Items) {
				return fmt.Errorf("%s/%s: %d of %d nodes have a Ready pod", d.ns, d.name, ds.Status.NumberReady, len(nodes.Items))
			}
			return nil
		})
	}

	// CoreDNS restarted as a learner would (`kubectl rollout restart deployment
	// coredns -n kube-system`) is Ready again, on the control plane: on a worker it
	// could not reach the API server and never was. The DNS checks below ask it.
	restartedAt := time.Now().Format(time.RFC3339)
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`, restartedAt)
	if _, err := cs.AppsV1().Deployments("kube-system").Patch(ctx, "coredns", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "kubectl-rollout"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, ctx, "CoreDNS restarted and Ready on the control plane", func(ctx context.Context) error {
		d, err := cs.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if want := ptr.Deref(d.Spec.Replicas, 1); d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas != want || d.Status.ReadyReplicas != want || d.Status.Replicas != want {
			return fmt.Errorf("rollout: %d updated, %d ready, %d in all, want %d", d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.Replicas, want)
		}
		pods, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			n, err := cs.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if _, cp := n.Labels[cluster.ControlPlaneRoleLabel]; !cp {
				return fmt.Errorf("%s runs on %s, a worker (%s)", p.Name, p.Spec.NodeName, kube.PodProblem(&p))
			}
		}
		return nil
	})

	// A web server on every node (a DaemonSet of echo-hostname, tolerating the
	// control plane), a client pod on every node.
	labels := map[string]string{"app": "web"}
	web := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers:  []corev1.Container{{Name: "web", Image: images.EchoHostname, ImagePullPolicy: corev1.PullIfNotPresent}},
				},
			},
		},
	}
	if _, err := cs.AppsV1().DaemonSets(ns).Create(ctx, web, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clients := map[string]string{} // node → client pod
	for _, n := range nodes.Items {
		p := pod("client-"+n.Name, images.Debug, nil, "sleep", "infinity")
		p.Namespace = ns
		p.Spec.NodeName = n.Name
		p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		if _, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		clients[n.Name] = p.Name
	}
	var webPods []corev1.Pod
	eventually(t, ctx, "a web pod and a client pod Ready on every node", func(ctx context.Context) error {
		list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		webPods = webPods[:0]
		for _, p := range list.Items {
			if !kube.PodReady(&p) {
				return fmt.Errorf("%s on %s: %s", p.Name, p.Spec.NodeName, kube.PodProblem(&p))
			}
			if p.Labels["app"] == "web" {
				webPods = append(webPods, p)
			}
		}
		if len(webPods) != len(nodes.Items) || len(list.Items) != 2*len(nodes.Items) {
			return fmt.Errorf("%d web pods, %d pods in all", len(webPods), len(list.Items))
		}
		return nil
	})
	sort.Slice(webPods, func(i, j int) bool { return webPods[i].Spec.NodeName < webPods[j].Spec.NodeName })
	exec := func(ctx context.Context, node string, cmd ...string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		res, err := kube.Exec(ctx, cfg, cs, ns, clients[node], "", cmd...)
		return res.Stdout, err
	}

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: labels,
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(80)}}},
	}
	svc, err = cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		// Pod to pod, across nodes: every web pod answers a client on this node.
		for _, w := range webPods {
			eventually(t, ctx, fmt.Sprintf("a pod on %s reaches %s on %s", n.Name, w.Name, w.Spec.NodeName), func(ctx context.Context) error {
				out, err := exec(ctx, n.Name, "curl", "-s", "-m", "3", "http://"+w.Status.PodIP)
				if err != nil {
					return err
				}
				return contains(out, "Hello, "+w.Name)
			})
		}
		// The Service by name: the cluster DNS and the ClusterIP from every node.
		eventually(t, ctx, "the Service by name from "+n.Name, func(ctx context.Context) error {
			out, err := exec(ctx, n.Name, "curl", "-s", "-m", "3", "http://web."+ns+".svc.cluster.local:8080")
			if err != nil {
				return err
			}
			return contains(out, "Hello, web-")
		})
		eventually(t, ctx, "the cluster DNS from "+n.Name, func(ctx context.Context) error {
			out, err := exec(ctx, n.Name, "dig", "+short", "+time=2", "web."+ns+".svc.cluster.local")
			if err != nil {
				return err
			}
			if strings.TrimSpace(out) != svc.Spec.ClusterIP {
				return fmt.Errorf("dig says %q, want %s", out, svc.Spec.ClusterIP)
			}
			return nil
		})
	}
	nodePort := svc.Spec.Ports[0].NodePort
	for name, ip := range addr {
		eventually(t, ctx, "the NodePort on "+name, func(ctx context.Context) error {
			body, err := hostGet(ctx, fmt.Sprintf("http://%s/", net.JoinHostPort(ip, fmt.Sprint(nodePort))))
			if err != nil {
				return err
			}
			return contains(body, "Hello, web-")
		})
	}

	// externalTrafficPolicy Local with one pod: only that pod's node answers.
	local := svc.DeepCopy()
	local.ObjectMeta = metav1.ObjectMeta{Name: "web-local", Namespace: ns}
	local.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
		Selector: map[string]string{"app": "web-one"}, Ports: []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(80)}}}
	local, err = cs.CoreV1().Services(ns).Create(ctx, local, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var worker string
	for _, n := range nodes.Items {
		if _, cp := n.Labels[cluster.ControlPlaneRoleLabel]; !cp {
			worker = n.Name
			break
		}
	}
	one := pod("web-one", images.EchoHostname, map[string]string{"app": "web-one"})
	one.Namespace = ns
	one.Spec.NodeName = worker
	one.Spec.TerminationGracePeriodSeconds = ptr.To[int64](0)
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, one, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	localPort := fmt.Sprint(local.Spec.Ports[0].NodePort)
	eventually(t, ctx, "Local policy: the node with the pod answers", func(ctx context.Context) error {
		body, err := hostGet(ctx, "http://"+net.JoinHostPort(addr[worker], localPort)+"/")
		if err != nil {
			return err
		}
		return contains(body, "Hello, web-one")
	})
	for name, ip := range addr {
		if name == worker {
			continue
		}
		if body, err := hostGet(ctx, "http://"+net.JoinHostPort(ip, localPort)+"/"); err == nil {
			t.Errorf("Local policy: %s (no pod of the Service) answered %q", name, trim(body))
		}
	}
	// The pod saw the host's own address (the kind network's gateway), not a node's.
	logs, err := cs.CoreV1().Pods(ns).GetLogs("web-one", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range addr {
		if strings.Contains(string(logs), ip+":") {
			t.Errorf("Local policy: the pod saw a node's address %s, not the client's:\n%s", ip, logs)
		}
	}
	if !strings.Contains(string(logs), "GET /") {
		t.Errorf("the pod logged no request:\n%s", logs)
	}
	t.Logf("web-one's log (client addresses kept): %s", strings.TrimSpace(string(logs)))
}
