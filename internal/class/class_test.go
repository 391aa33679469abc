package class

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

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

func TestProvisionNamespaceGivesAKubeconfigForTheNamespace(t *testing.T) {
	cs := fake.NewClientset()
	// The fake has no token controller: play it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			s, err := cs.CoreV1().Secrets("student-01").Get(ctx, learnerSecret, metav1.GetOptions{})
			if err == nil {
				s.Data = map[string][]byte{corev1.ServiceAccountTokenKey: []byte("tok")}
				cs.CoreV1().Secrets("student-01").Update(ctx, s, metav1.UpdateOptions{})
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	admin := &rest.Config{Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAData: []byte("ca")}}
	data, err := ProvisionNamespace(ctx, cs, admin, "student-01", "kindlab-system", "kindlab-probe")
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := kube.KubeconfigNamespace(data, "")
	cfg, err := kube.RESTConfigFromKubeconfig(data, "")
	if err != nil || ns != "student-01" || cfg.BearerToken != "tok" || cfg.Host != admin.Host {
		t.Fatalf("kubeconfig: ns %q host %q token %q err %v\n%s", ns, cfg.Host, cfg.BearerToken, err, data)
	}
	rb, err := cs.RbacV1().RoleBindings("student-01").Get(ctx, "kindlab-learner-edit", metav1.GetOptions{})
	if err != nil || rb.RoleRef.Name != "edit" || rb.Subjects[0].Namespace != "student-01" {
		t.Errorf("edit binding: %+v %v", rb, err)
	}
	role, err := cs.RbacV1().Roles("kindlab-system").Get(ctx, probeUserRole, metav1.GetOptions{})
	if err != nil || role.Rules[1].ResourceNames[0] != "kindlab-probe" {
		t.Errorf("helper pod role: %+v %v", role, err)
	}
	// A second run completes instead of failing on what exists.
	if _, err := ProvisionNamespace(ctx, cs, admin, "student-01", "kindlab-system", "kindlab-probe"); err != nil {
		t.Errorf("second provisioning: %v", err)
	}
	if err := DeprovisionNamespace(ctx, cs, "student-01", "kindlab-system"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "student-01", metav1.GetOptions{}); err == nil {
		t.Error("namespace left after deprovisioning")
	}
	if err := DeprovisionNamespace(ctx, cs, "student-01", "kindlab-system"); err != nil {
		t.Errorf("deprovisioning twice: %v", err)
	}
}
