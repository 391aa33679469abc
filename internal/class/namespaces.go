package class

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Names of the objects a namespace learner gets. The learner is the service
// account "learner" of their namespace; its rights are:
//   - in their namespace, the built-in ClusterRole "edit" (pods, ReplicaSets,
//     Deployments, Services, exec, logs; no RBAC, no other namespace);
//   - cluster-wide, read nodes (the chapter's `kubectl get nodes -o wide`);
//   - in kindlab-system, read and exec into kindlab's helper pod, so their own
//     kindlab can run the in-cluster HTTP and DNS checks.
const (
	learnerSA      = "learner"
	learnerSecret  = "learner-token"
	nodeReaderRole = "kindlab-node-reader"
	probeUserRole  = "kindlab-probe-user"
	// LabelLearner marks every object made for a learner.
	LabelLearner = "kindlab.dev/learner"
	labelManaged = "app.kubernetes.io/managed-by"
)

func meta(name, ns, learner string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{labelManaged: "kindlab", LabelLearner: learner}}
}

// create makes obj and treats "already exists" as done: provisioning is
// idempotent, so a second `class create` completes what a first one left.
func create(err error) error {
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// ProvisionNamespace gives learner ns their namespace, service account and RBAC
// through cs, and returns a kubeconfig for them on admin's API server whose
// default namespace is ns. probeNS/probePod is kindlab's helper pod.
func ProvisionNamespace(ctx context.Context, cs kubernetes.Interface, admin *rest.Config, ns, probeNS, probePod string) ([]byte, error) {
	rb := cs.RbacV1()
	steps := []struct {
		what string
		do   func() error
	}{
		{"namespace", func() error {
			_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: meta(ns, "", ns)}, metav1.CreateOptions{})
			return err
		}},
		{"service account", func() error {
			_, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: meta(learnerSA, ns, ns)}, metav1.CreateOptions{})
			return err
		}},
		{"edit rights in the namespace", func() error {
			_, err := rb.RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: meta("kindlab-learner-edit", ns, ns),
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: learnerSA, Namespace: ns}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"node reader role", func() error {
			_, err := rb.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
				ObjectMeta: metav1.ObjectMeta{Name: nodeReaderRole, Labels: map[string]string{labelManaged: "kindlab"}},
				Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"node reading", func() error {
			_, err := rb.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: meta(nodeReaderRole+"-"+ns, "", ns),
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: nodeReaderRole},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: learnerSA, Namespace: ns}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"helper pod role", func() error {
			_, err := rb.Roles(probeNS).Create(ctx, &rbacv1.Role{
				ObjectMeta: metav1.ObjectMeta{Name: probeUserRole, Namespace: probeNS, Labels: map[string]string{labelManaged: "kindlab"}},
				Rules: []rbacv1.PolicyRule{
					{APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{probePod}, Verbs: []string{"get"}},
					{APIGroups: []string{""}, Resources: []string{"pods/exec"}, ResourceNames: []string{probePod}, Verbs: []string{"get", "create"}},
				},
			}, metav1.CreateOptions{})
			return err
		}},
		{"helper pod use", func() error {
			_, err := rb.RoleBindings(probeNS).Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: meta(probeUserRole+"-"+ns, probeNS, ns),
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: probeUserRole},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: learnerSA, Namespace: ns}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"token", func() error {
			s := &corev1.Secret{ObjectMeta: meta(learnerSecret, ns, ns), Type: corev1.SecretTypeServiceAccountToken}
			s.Annotations = map[string]string{corev1.ServiceAccountNameKey: learnerSA}
			_, err := cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
			return err
		}},
	}
	for _, st := range steps {
		if err := create(st.do()); err != nil {
			return nil, fmt.Errorf("learner %s: %s: %w", ns, st.what, err)
		}
	}
	// The token controller fills the secret a moment later.
	var token []byte
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		s, err := cs.CoreV1().Secrets(ns).Get(ctx, learnerSecret, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		token = s.Data[corev1.ServiceAccountTokenKey]
		return len(token) > 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("learner %s: the token controller did not fill %s/%s within a minute", ns, ns, learnerSecret)
	}
	return Kubeconfig(admin, ns, string(token))
}

// Kubeconfig is a kubeconfig for learner ns on admin's API server with token.
func Kubeconfig(admin *rest.Config, ns, token string) ([]byte, error) {
	name := "kindlab-" + ns
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData, InsecureSkipTLSVerify: admin.Insecure}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: ns}
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}

// DeprovisionNamespace removes a learner's namespace (with everything in it) and
// their cluster-wide bindings; the shared roles stay for the other learners.
func DeprovisionNamespace(ctx context.Context, cs kubernetes.Interface, ns, probeNS string) error {
	gone := func(err error) error {
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return nil
	}
	if err := gone(cs.RbacV1().ClusterRoleBindings().Delete(ctx, nodeReaderRole+"-"+ns, metav1.DeleteOptions{})); err != nil {
		return err
	}
	if err := gone(cs.RbacV1().RoleBindings(probeNS).Delete(ctx, probeUserRole+"-"+ns, metav1.DeleteOptions{})); err != nil {
		return err
	}
	return gone(cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}))
}
