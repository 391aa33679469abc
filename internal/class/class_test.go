package class

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kindlab/kindlab/internal/kube"
)

func TestClassFileRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err != ErrNoClass {
		t.Fatalf("Load of nothing: %v, want ErrNoClass", err)
	}
	c := New(dir, ModeNamespaces, "kindlab")
	c.Put(Learner{Name: LearnerName("student", 2), Namespace: "student-02"})
	c.Put(Learner{Name: LearnerName("student", 1), Namespace: "student-01"})
	c.Put(Learner{Name: "student-01", Namespace: "student-01", Kubeconfig: "k"})
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Learners) != 2 || got.Learners[0].Name != "student-01" || got.Learners[0].Kubeconfig != "k" || got.Cluster != "kindlab" {
		t.Fatalf("round trip: %+v", got)
	}
	if _, err := got.Get("student-03"); err == nil || !strings.Contains(err.Error(), "student-01") {
		t.Errorf("Get of a stranger: %v; want the list of learners", err)
	}
	got.Remove("student-01")
	if len(got.Learners) != 1 {
		t.Errorf("Remove: %+v", got.Learners)
	}
	if fi, _ := os.Stat(c.Path()); fi.Mode().Perm() != 0o600 {
		t.Errorf("class file mode %v, want 0600 (it names credentials)", fi.Mode())
	}
	os.WriteFile(filepath.Join(Dir(dir), "class.json"), []byte("{broken"), 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged file: %v", err)
	}
}

// fakeCluster is a fake API server that issues tokens as TokenRequest does.
func fakeCluster() *fake.Clientset {
	cs := fake.NewClientset()
	cs.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		tr.Status.Token = "tok"
		tr.Status.ExpirationTimestamp = metav1.NewTime(time.Now().Add(time.Duration(*tr.Spec.ExpirationSeconds) * time.Second))
		return true, tr, nil
	})
	return cs
}

func TestProvisionNamespaceGivesAKubeconfigForTheNamespace(t *testing.T) {
	ctx := context.Background()
	cs := fakeCluster()
	admin := &rest.Config{Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca")}}
	p := Provision{Namespace: "student-01", TokenTTL: 24 * time.Hour, HelperNamespace: "kindlab-system", PodCIDRs: []string{"10.244.0.0/24"}}
	grant, err := ProvisionNamespace(ctx, cs, admin, p)
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := kube.KubeconfigNamespace(grant.Kubeconfig, "")
	cfg, err := kube.RESTConfigFromKubeconfig(grant.Kubeconfig, "")
	if err != nil || ns != "student-01" || cfg.BearerToken != "tok" || cfg.Host != admin.Host {
		t.Fatalf("kubeconfig: ns %q host %q token %q err %v\n%s", ns, cfg.Host, cfg.BearerToken, err, grant.Kubeconfig)
	}
	if d := time.Until(grant.Expires); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("token expires in %s, want 24h", d)
	}
	nsObj, err := cs.CoreV1().Namespaces().Get(ctx, "student-01", metav1.GetOptions{})
	if err != nil || nsObj.Labels["pod-security.kubernetes.io/enforce"] != "baseline" || !Ours(nsObj) {
		t.Errorf("namespace labels: %v %v", nsObj.Labels, err)
	}
	rb, err := cs.RbacV1().RoleBindings("student-01").Get(ctx, editBindingName, metav1.GetOptions{})
	if err != nil || rb.RoleRef.Name != "edit" || rb.Subjects[0].Namespace != "student-01" {
		t.Errorf("edit binding: %+v %v", rb, err)
	}
	if _, err := cs.RbacV1().Roles("kindlab-system").Get(ctx, legacyProbeRole, metav1.GetOptions{}); err == nil {
		t.Error("learners are given exec rights into the shared helper")
	}
	// The components lab's `kubectl get pods -n kube-system`: read, nothing more.
	sysRole, err := cs.RbacV1().Roles("kube-system").Get(ctx, systemReader, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("kube-system reader: %v", err)
	}
	for _, r := range sysRole.Rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				t.Errorf("kube-system reader may %s %v", v, r.Resources)
			}
		}
		for _, res := range r.Resources {
			if strings.Contains(res, "/") {
				t.Errorf("kube-system reader reaches the subresource %s (logs, exec)", res)
			}
		}
	}
	if b, err := cs.RbacV1().RoleBindings("kube-system").Get(ctx, systemReader+"-student-01", metav1.GetOptions{}); err != nil || b.Subjects[0].Namespace != "student-01" {
		t.Errorf("kube-system reading: %+v %v", b, err)
	}
	quota, err := cs.CoreV1().ResourceQuotas("student-01").Get(ctx, quotaName, metav1.GetOptions{})
	if err != nil || quota.Spec.Hard.Pods().Value() != int64(FairShare.Pods) {
		t.Errorf("quota: %+v %v", quota, err)
	}
	if _, err := cs.CoreV1().LimitRanges("student-01").Get(ctx, limitRangeName, metav1.GetOptions{}); err != nil {
		t.Errorf("limit range: %v", err)
	}
	np, err := cs.NetworkingV1().NetworkPolicies("student-01").Get(ctx, networkPolicy, metav1.GetOptions{})
	if err != nil || len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) != 3 || np.Spec.Ingress[0].From[2].IPBlock.Except[0] != "10.244.0.0/24" {
		t.Errorf("network policy: %+v %v", np, err)
	}
	// A second run completes instead of failing on what exists.
	if _, err := ProvisionNamespace(ctx, cs, admin, p); err != nil {
		t.Errorf("second provisioning: %v", err)
	}
	if err := DeprovisionNamespace(ctx, cs, "student-01", "kindlab-system"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "student-01", metav1.GetOptions{}); err == nil {
		t.Error("namespace left after deprovisioning")
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, nodeReaderRole+"-student-01", metav1.GetOptions{}); err == nil {
		t.Error("cluster role binding left after deprovisioning")
	}
	if _, err := cs.RbacV1().RoleBindings("kube-system").Get(ctx, systemReader+"-student-01", metav1.GetOptions{}); err == nil {
		t.Error("kube-system reading left after deprovisioning")
	}
	if err := DeprovisionNamespace(ctx, cs, "student-01", "kindlab-system"); err != nil {
		t.Errorf("deprovisioning twice: %v", err)
	}
	if err := RemoveShared(ctx, cs, "kindlab-system"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, nodeReaderRole, metav1.GetOptions{}); err == nil {
		t.Error("the shared node reader role is left")
	}
}

func TestANamespaceKindlabDidNotMakeIsNeitherTakenNorDeleted(t *testing.T) {
	ctx := context.Background()
	cs := fakeCluster()
	admin := &rest.Config{Host: "https://127.0.0.1:6443"}
	cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "student-01"}}, metav1.CreateOptions{})
	_, err := ProvisionNamespace(ctx, cs, admin, Provision{Namespace: "student-01"})
	if !errors.Is(err, ErrNotOurs) || !strings.Contains(err.Error(), "--adopt") {
		t.Fatalf("got %v", err)
	}
	if _, err := cs.CoreV1().ServiceAccounts("student-01").Get(ctx, learnerSA, metav1.GetOptions{}); err == nil {
		t.Error("a learner was given a namespace kindlab did not make")
	}
	if err := DeprovisionNamespace(ctx, cs, "student-01", ""); !errors.Is(err, ErrNotOurs) {
		t.Errorf("deprovisioning someone else's namespace: %v", err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "student-01", metav1.GetOptions{}); err != nil {
		t.Error("a namespace kindlab did not make was deleted")
	}
	// --adopt takes it over; then it is the class's.
	if _, err := ProvisionNamespace(ctx, cs, admin, Provision{Namespace: "student-01", Adopt: true}); err != nil {
		t.Fatal(err)
	}
	if err := DeprovisionNamespace(ctx, cs, "student-01", ""); err != nil {
		t.Errorf("deprovisioning an adopted namespace: %v", err)
	}
}
