//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/kindlab/kindlab/internal/class"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/kube"
)

// learner is a learner's own access, from the kubeconfig `class create` wrote.
type learner struct {
	name string
	cfg  *rest.Config
	cs   kubernetes.Interface
}

func learnerAccess(t *testing.T, name, kubeconfig string) learner {
	t.Helper()
	data, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kube.RESTConfigFromKubeconfig(data, "")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return learner{name: name, cfg: cfg, cs: cs}
}

// tokenExpiry reads the exp claim of a kubeconfig's bearer token.
func tokenExpiry(t *testing.T, cfg *rest.Config) time.Time {
	t.Helper()
	parts := strings.Split(cfg.BearerToken, ".")
	if len(parts) != 3 {
		t.Fatalf("the learner's token is not a JWT: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Exp int64 }
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == 0 {
		t.Fatalf("token claims %s: %v", payload, err)
	}
	return time.Unix(claims.Exp, 0)
}

// refused wants err to be the API server's Forbidden (or Invalid) whose message
// holds why.
func refused(t *testing.T, what string, err error, why string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: allowed, want refused", what)
		return
	}
	if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), why) {
		t.Errorf("%s: %v; want Forbidden saying %q", what, err, why)
		return
	}
	t.Logf("%s: refused: %s", what, firstLine(err.Error()))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return line
}

func attackPod(name string, mutate func(*corev1.PodSpec)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "nginx:1.10"}},
	}}
	mutate(&p.Spec)
	return p
}

// learnersAreContained attacks the class as learner a (student-01, who solved the
// pod lab) and learner b (student-02, who solved service-externalname, so kindlab
// made a helper in b's namespace) would, with their own kubeconfigs, and wants
// each attack refused. createOut is what `class create` printed.
func learnersAreContained(t *testing.T, ctx context.Context, k cli, admin kubernetes.Interface, a, b learner, createOut string) {
	pods := a.cs.CoreV1().Pods(a.name)

	// Escape to the node: Pod Security "baseline" refuses each way out.
	_, err := pods.Create(ctx, attackPod("privileged", func(s *corev1.PodSpec) {
		s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
	}), metav1.CreateOptions{})
	refused(t, "a privileged pod", err, "PodSecurity")
	_, err = pods.Create(ctx, attackPod("hostpath", func(s *corev1.PodSpec) {
		s.Volumes = []corev1.Volume{{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
		s.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "root", MountPath: "/host"}}
	}), metav1.CreateOptions{})
	refused(t, "a pod mounting the node's /", err, "PodSecurity")
	_, err = pods.Create(ctx, attackPod("hostns", func(s *corev1.PodSpec) { s.HostNetwork, s.HostPID = true, true }), metav1.CreateOptions{})
	refused(t, "a hostNetwork + hostPID pod", err, "PodSecurity")
	// A Deployment's pods are checked too (the ReplicaSet cannot make them).
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "sneaky"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "sneaky"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "sneaky"}},
			Spec: attackPod("", func(s *corev1.PodSpec) { s.HostPID = true }).Spec},
	}}
	if _, err := a.cs.AppsV1().Deployments(a.name).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Another learner's work and the cluster's secrets.
	_, err = a.cs.CoreV1().Pods(b.name).List(ctx, metav1.ListOptions{})
	refused(t, "listing the other learner's pods", err, "forbidden")
	_, err = a.cs.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{})
	refused(t, "listing kube-system's secrets", err, "forbidden")
	_, err = a.cs.CoreV1().ResourceQuotas(a.name).Update(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "kindlab-fair-share", Namespace: a.name}}, metav1.UpdateOptions{})
	refused(t, "changing their own quota", err, "forbidden")
	ns, _ := admin.CoreV1().Namespaces().Get(ctx, a.name, metav1.GetOptions{})
	ns.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
	_, err = a.cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{})
	refused(t, "lifting Pod Security on their namespace", err, "forbidden")

	// Forging grades: the instructor's helper is out of reach.
	_, err = kube.Exec(ctx, a.cfg, a.cs, engine.ProbeNamespace, engine.ProbePod, "probe", "true")
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "forbidden") {
		t.Errorf("exec into the instructor's helper pod: %v, want forbidden", err)
	}
	err = a.cs.CoreV1().Pods(engine.ProbeNamespace).Delete(ctx, engine.ProbePod, metav1.DeleteOptions{})
	refused(t, "deleting the instructor's helper pod", err, "forbidden")
	for _, ns := range []string{engine.ProbeNamespace, b.name} {
		p, err := admin.CoreV1().Pods(ns).Get(ctx, engine.ProbePod, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("helper pod in %s: %v", ns, err)
		}
		c := p.Spec.Containers[0].SecurityContext
		if sc := p.Spec.SecurityContext; sc == nil || !ptr.Deref(sc.RunAsNonRoot, false) || c == nil || !ptr.Deref(c.ReadOnlyRootFilesystem, false) {
			t.Errorf("helper pod in %s does not run as non-root with a read-only root file system: %+v %+v", ns, sc, c)
		}
	}
	// b may exec into their own helper, and cannot change what it runs.
	res, err := kube.Exec(ctx, b.cfg, b.cs, b.name, engine.ProbePod, "probe", "sh", "-c", "id -u; cp /bin/true /usr/bin/curl && echo replaced")
	if err == nil || strings.Contains(res.Stdout, "replaced") || !strings.HasPrefix(res.Stdout, "65534") {
		t.Errorf("replacing curl in the learner's own helper: err %v, stdout %q", err, res.Stdout)
	} else {
		t.Logf("replacing curl in the learner's own helper: refused (%s)", firstLine(res.Stderr))
	}

	// A Service that claims any address.
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "mitm"}, Spec: corev1.ServiceSpec{
		Ports: []corev1.ServicePort{{Port: 80}}, ExternalIPs: []string{"10.96.0.1"},
	}}
	_, err = a.cs.CoreV1().Services(a.name).Create(ctx, svc, metav1.CreateOptions{})
	refused(t, "a Service with externalIPs", err, "externalIPs")

	// The registry every node pulls from: no pod may write to it (or reach it).
	res, err = kube.Exec(ctx, b.cfg, b.cs, b.name, engine.ProbePod, "probe", "curl", "-sS", "--max-time", "3", "-X", "DELETE", "http://kindlab-registry:5000/v2/library/nginx/manifests/latest")
	if err == nil {
		t.Errorf("a learner's pod reached the local registry: %q", res.Stdout)
	} else {
		t.Logf("a learner's pod reaching the local registry: refused (%s)", firstLine(strings.TrimSpace(res.Stdout+res.Stderr)))
	}

	// Fair share: a 100-replica Deployment stops at the quota, and the other
	// learner's graded work keeps passing.
	flood := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "flood"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](100),
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "flood"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "flood"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.10"}}}},
	}}
	if _, err := a.cs.AppsV1().Deployments(a.name).Create(ctx, flood, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var running int
	eventually(t, ctx, "the flood stops at the quota", func(ctx context.Context) error {
		q, err := admin.CoreV1().ResourceQuotas(a.name).Get(ctx, "kindlab-fair-share", metav1.GetOptions{})
		if err != nil {
			return err
		}
		used, hard := q.Status.Used[corev1.ResourcePods], q.Status.Hard[corev1.ResourcePods]
		running = int(used.Value())
		if used.Cmp(hard) < 0 {
			return fmt.Errorf("%d of %d pods used", used.Value(), hard.Value())
		}
		return nil
	})
	list, _ := admin.CoreV1().Pods(a.name).List(ctx, metav1.ListOptions{})
	if len(list.Items) > class.FairShare.Pods {
		t.Errorf("learner %s has %d pods, over the quota of %d", a.name, len(list.Items), class.FairShare.Pods)
	}
	t.Logf("a 100-replica Deployment: %d pods in the namespace (quota %d)", running, class.FairShare.Pods)
	learnerB := cli{t: t, bin: k.bin, state: k.state, base: []string{"--kubeconfig", filepath.Join(k.state, "class", b.name+".kubeconfig")}}
	learnerB.must(0, "grade", "service-externalname", "--timeout", "1m")
	bg := metav1.DeletePropagationBackground
	for _, d := range []string{"flood", "sneaky"} {
		if err := a.cs.AppsV1().Deployments(a.name).Delete(ctx, d, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil {
			t.Error(err)
		}
	}
	if rs, err := admin.AppsV1().ReplicaSets(a.name).List(ctx, metav1.ListOptions{LabelSelector: "app=sneaky"}); err == nil {
		for _, r := range rs.Items {
			if r.Status.Replicas != 0 {
				t.Errorf("a hostPID Deployment got %d pods", r.Status.Replicas)
			}
		}
	}

	// Network isolation: the class says whether it is enforced, and it is right.
	target, err := admin.CoreV1().Pods(a.name).Get(ctx, "my-nginx-pod", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("learner %s's pod from the pod lab: %v", a.name, err)
	}
	res, err = kube.Exec(ctx, b.cfg, b.cs, b.name, engine.ProbePod, "probe", "curl", "-sS", "-o", "/dev/null", "--max-time", "3", "http://"+target.Status.PodIP+"/")
	reached := err == nil
	switch {
	case strings.Contains(createOut, "network isolation: enforced"):
		if reached {
			t.Errorf("class create says network isolation is enforced, but %s's pod reached %s's", b.name, a.name)
		}
	case strings.Contains(createOut, "network isolation: NOT enforced"):
		t.Logf("network isolation is reported as not enforced (and %s's pod reached %s's: %v)", b.name, a.name, reached)
	default:
		t.Errorf("class create does not say whether network isolation is enforced:\n%s", createOut)
	}
}

// classOwnsWhatItMakes: a namespace class create did not make is neither taken
// nor deleted; tokens expire and are reissued; class delete leaves nothing of the
// class's cluster-wide objects.
func tokensExpire(t *testing.T, k cli, a learner) {
	exp := tokenExpiry(t, a.cfg)
	if d := time.Until(exp); d > class.DefaultTokenTTL+time.Hour || d < class.DefaultTokenTTL-time.Hour {
		t.Errorf("the learner's token expires in %s, want about %s", d.Round(time.Minute), class.DefaultTokenTTL)
	}
	k.must(0, "class", "kubeconfig", "--learner", a.name, "--token-ttl", "1h")
	fresh := learnerAccess(t, a.name, filepath.Join(k.state, "class", a.name+".kubeconfig"))
	if d := time.Until(tokenExpiry(t, fresh.cfg)); d > 70*time.Minute || d < 50*time.Minute {
		t.Errorf("class kubeconfig --token-ttl 1h: the token expires in %s", d.Round(time.Minute))
	}
	if _, err := fresh.cs.CoreV1().Pods(a.name).List(context.Background(), metav1.ListOptions{}); err != nil {
		t.Errorf("the reissued kubeconfig does not work: %v", err)
	}
}

func foreignNamespaceIsLeftAlone(t *testing.T, ctx context.Context, k cli, admin kubernetes.Interface) {
	ns := "student-03"
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "precious"}, Data: map[string]string{"k": "v"}}
	if _, err := admin.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := k.run("class", "create", "--learners", "3", "--namespaces")
	if code != 2 || !strings.Contains(errOut, "--adopt") {
		t.Errorf("class create over a namespace it did not make: exit %d\n%s\n%s; want 2 naming --adopt", code, out, errOut)
	}
	if _, err := admin.CoreV1().ServiceAccounts(ns).Get(ctx, "learner", metav1.GetOptions{}); err == nil {
		t.Errorf("a learner was given namespace %s, which kindlab did not make", ns)
	}
}

func classLeavesNothing(t *testing.T, ctx context.Context, admin kubernetes.Interface) {
	sel := metav1.ListOptions{LabelSelector: kube.ManagedByLabel + "=" + kube.ManagedBy}
	var left []string
	if l, err := admin.RbacV1().ClusterRoles().List(ctx, sel); err == nil {
		for _, o := range l.Items {
			left = append(left, "clusterrole/"+o.Name)
		}
	}
	if l, err := admin.RbacV1().ClusterRoleBindings().List(ctx, sel); err == nil {
		for _, o := range l.Items {
			left = append(left, "clusterrolebinding/"+o.Name)
		}
	}
	if l, err := admin.RbacV1().Roles(engine.ProbeNamespace).List(ctx, sel); err == nil {
		for _, o := range l.Items {
			left = append(left, "role/"+o.Name)
		}
	}
	if l, err := admin.AdmissionregistrationV1().ValidatingAdmissionPolicies().List(ctx, sel); err == nil {
		for _, o := range l.Items {
			left = append(left, "validatingadmissionpolicy/"+o.Name)
		}
	}
	if len(left) > 0 {
		t.Errorf("class delete left %v", left)
	}
}

// foreignNamespaceSurvives: after class delete, the namespace kindlab did not make
// (foreignNamespaceIsLeftAlone) is there with its contents; then it is removed.
func foreignNamespaceSurvives(t *testing.T, ctx context.Context, admin kubernetes.Interface) {
	if _, err := admin.CoreV1().ConfigMaps("student-03").Get(ctx, "precious", metav1.GetOptions{}); err != nil {
		t.Errorf("class delete removed a namespace it did not make: %v", err)
	}
	_ = admin.CoreV1().Namespaces().Delete(ctx, "student-03", metav1.DeleteOptions{})
}

// learnerProgressCleared: class reset clears the progress the learner's own
// kindlab keeps (run with their kubeconfig on this machine).
func learnerProgressFile(k cli, ns string) string {
	return filepath.Join(k.state, "kubeconfig-"+class.ContextName(ns)+"--"+ns, "progress.json")
}

func progressLabs(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the learner's progress: %v", err)
	}
	var f struct{ Labs map[string]json.RawMessage }
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return len(f.Labs)
}
