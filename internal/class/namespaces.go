package class

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/kindlab/kindlab/internal/kube"
)

// What a namespace learner gets. The learner is the service account "learner" of
// their namespace; its rights are:
//   - in their namespace, the built-in ClusterRole "edit" (pods, ReplicaSets,
//     Deployments, Services, exec, logs; no RBAC, no quota, no other namespace);
//   - cluster-wide, read nodes (the chapter's `kubectl get nodes -o wide`);
//   - in kube-system, read pods and DaemonSets (the chapter's `kubectl get pods
//     -n kube-system -o wide`: the cluster's components); no logs, no exec.
//
// Their namespace enforces Pod Security "baseline" (no privileged, hostPath,
// hostNetwork, hostPID or host ports: nothing that reaches the node), holds a
// ResourceQuota and a LimitRange (fair share) and a NetworkPolicy that lets in
// only their own pods, kindlab's helper and traffic from outside the pod network
// (nodes, the machine: NodePort and LoadBalancer). Their own kindlab runs its
// in-cluster checks in a helper pod of their namespace; the instructor's helper
// in kindlab-system is out of their reach.
const (
	learnerSA       = "learner"
	nodeReaderRole  = "kindlab-node-reader"
	systemReader    = "kindlab-system-reader"
	quotaName       = "kindlab-fair-share"
	limitRangeName  = "kindlab-defaults"
	networkPolicy   = "kindlab-isolate"
	editBindingName = "kindlab-learner-edit"
	// LabelLearner marks every object made for a learner.
	LabelLearner = "kindlab.dev/learner"
	// Left by earlier kindlab versions, removed when found: a long-lived token
	// secret, and exec rights into the shared helper pod.
	legacySecret    = "learner-token"
	legacyProbeRole = "kindlab-probe-user"
)

// ErrNotOurs is returned for a namespace that kindlab's class did not make.
var ErrNotOurs = errors.New("namespace not made by kindlab")

// PodSecurityLevel is the Pod Security Standard enforced in learner namespaces:
// "baseline" keeps learners off the node. "restricted" would also reject the book's
// own files (nginx:latest as root, no seccomp profile), so the chapter's labs could
// not be done as printed.
const PodSecurityLevel = "baseline"

// FairShare is what one learner may use. Typed from the book, the chapter holds at
// most 7 pods at once in its namespace (measured by TestTheBookWordForWord); Pods
// leaves room for a learner's own experiments, and a Deployment of 100 replicas
// stops there (TestGradeFailsFreshPassesSolvedAndCannotWithoutCluster). The
// LoadBalancer lab alone makes three LoadBalancer Services (each with a node port),
// and a learner may leave the NodePort lab's Services standing.
var FairShare = struct {
	Pods, Services, NodePorts, LoadBalancers, ReplicaSets, Deployments int
	RequestsCPU, RequestsMemory, LimitsCPU, LimitsMemory               string
	// Per container, when the pod says nothing (the book's files never do).
	DefaultRequestCPU, DefaultRequestMemory, DefaultLimitCPU, DefaultLimitMemory string
	MaxCPU, MaxMemory                                                            string
}{
	Pods: 20, Services: 20, NodePorts: 10, LoadBalancers: 5, ReplicaSets: 40, Deployments: 10,
	RequestsCPU: "1", RequestsMemory: "1Gi", LimitsCPU: "10", LimitsMemory: "5Gi",
	DefaultRequestCPU: "10m", DefaultRequestMemory: "32Mi", DefaultLimitCPU: "500m", DefaultLimitMemory: "256Mi",
	MaxCPU: "1", MaxMemory: "512Mi",
}

// DefaultTokenTTL is how long a learner's kubeconfig works: a course week.
const DefaultTokenTTL = 7 * 24 * time.Hour

func labels(learner string) map[string]string {
	return map[string]string{kube.ManagedByLabel: kube.ManagedBy, LabelLearner: learner}
}

func meta(name, ns, learner string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels(learner)}
}

// Ours reports whether kindlab's class made namespace obj for learner ns.
func Ours(obj *corev1.Namespace) bool {
	return obj.Labels[kube.ManagedByLabel] == kube.ManagedBy && obj.Labels[LabelLearner] == obj.Name
}

// create makes obj and treats "already exists" as done: provisioning is
// idempotent, so a second `class create` completes what a first one left.
func create(err error) error {
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

func gone(err error) error {
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// Provision says how to make a learner's namespace.
type Provision struct {
	Namespace string
	// TokenTTL bounds the learner's kubeconfig (DefaultTokenTTL when zero).
	TokenTTL time.Duration
	// Adopt takes over a namespace kindlab did not make (its contents stay, and
	// `class delete` deletes it).
	Adopt bool
	// HelperNamespace is where the instructor's helper pod runs: its pods may
	// reach the learner's.
	HelperNamespace string
	// PodCIDRs are the cluster's pod networks (the nodes' spec.podCIDRs): traffic
	// from any other address (a node, the machine) may reach the learner's pods.
	PodCIDRs []string
}

// Grant is a learner's access.
type Grant struct {
	Kubeconfig []byte
	Expires    time.Time
}

// ProvisionNamespace gives learner p.Namespace their namespace, its guards, a
// service account with its rights, and returns a kubeconfig for admin's API server
// whose default namespace is theirs, with a token that expires.
func ProvisionNamespace(ctx context.Context, cs kubernetes.Interface, admin *rest.Config, p Provision) (Grant, error) {
	ns := p.Namespace
	if err := ensureNamespace(ctx, cs, ns, p.Adopt); err != nil {
		return Grant{}, fmt.Errorf("learner %s: %w", ns, err)
	}
	rb := cs.RbacV1()
	q := resource.MustParse
	steps := []struct {
		what string
		do   func() error
	}{
		{"service account", func() error {
			_, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: meta(learnerSA, ns, ns), AutomountServiceAccountToken: ptr.To(false)}, metav1.CreateOptions{})
			return err
		}},
		{"edit rights in the namespace", func() error {
			_, err := rb.RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: meta(editBindingName, ns, ns),
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: learnerSA, Namespace: ns}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"node reader role", func() error {
			_, err := rb.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
				ObjectMeta: metav1.ObjectMeta{Name: nodeReaderRole, Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}},
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
		{"kube-system reader role", func() error {
			_, err := rb.Roles(metav1.NamespaceSystem).Create(ctx, &rbacv1.Role{
				ObjectMeta: metav1.ObjectMeta{Name: systemReader, Namespace: metav1.NamespaceSystem, Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}},
				Rules: []rbacv1.PolicyRule{
					{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
					{APIGroups: []string{"apps"}, Resources: []string{"daemonsets"}, Verbs: []string{"get", "list", "watch"}},
				},
			}, metav1.CreateOptions{})
			return err
		}},
		{"kube-system reading", func() error {
			_, err := rb.RoleBindings(metav1.NamespaceSystem).Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: meta(systemReader+"-"+ns, metav1.NamespaceSystem, ns),
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: systemReader},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: learnerSA, Namespace: ns}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"admission policy", func() error { return ensureGuardPolicy(ctx, cs) }},
		{"resource quota", func() error {
			fs := FairShare
			_, err := cs.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{
				ObjectMeta: meta(quotaName, ns, ns),
				Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
					corev1.ResourcePods:                   *resource.NewQuantity(int64(fs.Pods), resource.DecimalSI),
					corev1.ResourceServices:               *resource.NewQuantity(int64(fs.Services), resource.DecimalSI),
					corev1.ResourceServicesNodePorts:      *resource.NewQuantity(int64(fs.NodePorts), resource.DecimalSI),
					corev1.ResourceServicesLoadBalancers:  *resource.NewQuantity(int64(fs.LoadBalancers), resource.DecimalSI),
					"count/replicasets.apps":              *resource.NewQuantity(int64(fs.ReplicaSets), resource.DecimalSI),
					"count/deployments.apps":              *resource.NewQuantity(int64(fs.Deployments), resource.DecimalSI),
					corev1.ResourceRequestsCPU:            q(fs.RequestsCPU),
					corev1.ResourceRequestsMemory:         q(fs.RequestsMemory),
					corev1.ResourceLimitsCPU:              q(fs.LimitsCPU),
					corev1.ResourceLimitsMemory:           q(fs.LimitsMemory),
					corev1.ResourcePersistentVolumeClaims: *resource.NewQuantity(0, resource.DecimalSI),
				}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"limit range", func() error {
			fs := FairShare
			_, err := cs.CoreV1().LimitRanges(ns).Create(ctx, &corev1.LimitRange{
				ObjectMeta: meta(limitRangeName, ns, ns),
				Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
					Type:           corev1.LimitTypeContainer,
					DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: q(fs.DefaultRequestCPU), corev1.ResourceMemory: q(fs.DefaultRequestMemory)},
					Default:        corev1.ResourceList{corev1.ResourceCPU: q(fs.DefaultLimitCPU), corev1.ResourceMemory: q(fs.DefaultLimitMemory)},
					Max:            corev1.ResourceList{corev1.ResourceCPU: q(fs.MaxCPU), corev1.ResourceMemory: q(fs.MaxMemory)},
				}}},
			}, metav1.CreateOptions{})
			return err
		}},
		{"network policy", func() error {
			_, err := cs.NetworkingV1().NetworkPolicies(ns).Create(ctx, isolation(ns, p.HelperNamespace, p.PodCIDRs), metav1.CreateOptions{})
			return err
		}},
	}
	for _, st := range steps {
		if err := create(st.do()); err != nil {
			return Grant{}, fmt.Errorf("learner %s: %s: %w", ns, st.what, err)
		}
	}
	// What an earlier kindlab gave learners and no longer does.
	if err := gone(cs.CoreV1().Secrets(ns).Delete(ctx, legacySecret, metav1.DeleteOptions{})); err != nil {
		return Grant{}, fmt.Errorf("learner %s: remove the long-lived token: %w", ns, err)
	}
	if p.HelperNamespace != "" {
		if err := gone(rb.RoleBindings(p.HelperNamespace).Delete(ctx, legacyProbeRole+"-"+ns, metav1.DeleteOptions{})); err != nil {
			return Grant{}, fmt.Errorf("learner %s: remove the use of the shared helper: %w", ns, err)
		}
	}
	return IssueKubeconfig(ctx, cs, admin, ns, p.TokenTTL)
}

// guardPolicy is a ValidatingAdmissionPolicy on every learner namespace for what
// Pod Security does not cover: a Service's externalIPs (a learner could claim any
// address, another learner's Service's included, and see its traffic).
const guardPolicy = "kindlab-learner-guard"

func ensureGuardPolicy(ctx context.Context, cs kubernetes.Interface) error {
	ar := cs.AdmissionregistrationV1()
	lbl := map[string]string{kube.ManagedByLabel: kube.ManagedBy}
	_, err := ar.ValidatingAdmissionPolicies().Create(ctx, &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: guardPolicy, Labels: lbl},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"services"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
				Message:    "kindlab class: a learner's Service may not set spec.externalIPs (it could take another learner's traffic); use type NodePort or LoadBalancer",
			}},
		},
	}, metav1.CreateOptions{})
	if create(err) != nil {
		return err
	}
	_, err = ar.ValidatingAdmissionPolicyBindings().Create(ctx, &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: guardPolicy, Labels: lbl},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        guardPolicy,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: LabelLearner, Operator: metav1.LabelSelectorOpExists}},
			}},
		},
	}, metav1.CreateOptions{})
	return create(err)
}

// ensureNamespace makes learner ns's namespace, or labels the one there if it is
// kindlab's (or adopt is set), with Pod Security enforced.
func ensureNamespace(ctx context.Context, cs kubernetes.Interface, ns string, adopt bool) error {
	want := labels(ns)
	maps.Copy(want, map[string]string{
		"pod-security.kubernetes.io/enforce":         PodSecurityLevel,
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/warn":            PodSecurityLevel,
		"pod-security.kubernetes.io/audit":           PodSecurityLevel,
	})
	obj, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: want}}, metav1.CreateOptions{})
		return create(err)
	}
	if err != nil {
		return err
	}
	if !Ours(obj) && !adopt {
		return fmt.Errorf("%w: namespace %s exists and was not made by `kindlab class create`; choose another --prefix, or pass --adopt to give it to the learner (`class delete` then deletes it with everything in it)", ErrNotOurs, ns)
	}
	if obj.Labels == nil {
		obj.Labels = map[string]string{}
	}
	changed := false
	for k, v := range want {
		if obj.Labels[k] != v {
			obj.Labels[k], changed = v, true
		}
	}
	if changed {
		_, err = cs.CoreV1().Namespaces().Update(ctx, obj, metav1.UpdateOptions{})
	}
	return err
}

// isolation is learner ns's default NetworkPolicy: ingress from its own pods, from
// helperNS, and from outside podCIDRs (nodes and the machine, for NodePort and
// LoadBalancer); other learners' pods are in podCIDRs and are left out.
func isolation(ns, helperNS string, podCIDRs []string) *networkingv1.NetworkPolicy {
	from := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
	if helperNS != "" {
		from = append(from, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{corev1.LabelMetadataName: helperNS}}})
	}
	var v4 []string
	for _, c := range podCIDRs {
		if !strings.Contains(c, ":") {
			v4 = append(v4, c)
		}
	}
	if len(v4) > 0 {
		from = append(from, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: v4}})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: meta(networkPolicy, ns, ns),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: from}},
		},
	}
}

// IssueKubeconfig returns a kubeconfig for learner ns with a new token valid for
// ttl (DefaultTokenTTL when zero), from the API server's TokenRequest. Tokens
// issued before stay valid until they expire.
func IssueKubeconfig(ctx context.Context, cs kubernetes.Interface, admin *rest.Config, ns string, ttl time.Duration) (Grant, error) {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, learnerSA, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(ttl / time.Second))},
	}, metav1.CreateOptions{})
	if err != nil {
		return Grant{}, fmt.Errorf("learner %s: token: %w", ns, err)
	}
	kc, err := Kubeconfig(admin, ns, tr.Status.Token)
	return Grant{Kubeconfig: kc, Expires: tr.Status.ExpirationTimestamp.Time}, err
}

// Kubeconfig is a kubeconfig for learner ns on admin's API server with token.
func Kubeconfig(admin *rest.Config, ns, token string) ([]byte, error) {
	name := ContextName(ns)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData, InsecureSkipTLSVerify: admin.Insecure}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: ns}
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}

// ContextName is the context of learner ns's kubeconfig.
func ContextName(ns string) string { return "kindlab-" + ns }

// DeprovisionNamespace removes learner ns: their cluster-wide binding and their
// namespace with everything in it, if kindlab's class made it (or adopted it).
// Nothing else: other learners' objects and the shared role stay (RemoveShared).
func DeprovisionNamespace(ctx context.Context, cs kubernetes.Interface, ns, helperNS string) error {
	obj, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	missing := apierrors.IsNotFound(err)
	if err != nil && !missing {
		return err
	}
	if !missing && !Ours(obj) {
		return fmt.Errorf("%w: namespace %s is not labelled %s=%s; kindlab leaves it alone", ErrNotOurs, ns, LabelLearner, ns)
	}
	if err := gone(cs.RbacV1().ClusterRoleBindings().Delete(ctx, nodeReaderRole+"-"+ns, metav1.DeleteOptions{})); err != nil {
		return err
	}
	if err := gone(cs.RbacV1().RoleBindings(metav1.NamespaceSystem).Delete(ctx, systemReader+"-"+ns, metav1.DeleteOptions{})); err != nil {
		return err
	}
	if helperNS != "" {
		if err := gone(cs.RbacV1().RoleBindings(helperNS).Delete(ctx, legacyProbeRole+"-"+ns, metav1.DeleteOptions{})); err != nil {
			return err
		}
	}
	if missing {
		return nil
	}
	return gone(cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}))
}

// RemoveShared removes what all learners shared, once none is left: the node
// reader role, the admission policy (and the helper role of earlier versions).
func RemoveShared(ctx context.Context, cs kubernetes.Interface, helperNS string) error {
	if err := gone(cs.RbacV1().ClusterRoles().Delete(ctx, nodeReaderRole, metav1.DeleteOptions{})); err != nil {
		return err
	}
	if err := gone(cs.RbacV1().Roles(metav1.NamespaceSystem).Delete(ctx, systemReader, metav1.DeleteOptions{})); err != nil {
		return err
	}
	if err := gone(cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, guardPolicy, metav1.DeleteOptions{})); err != nil {
		return err
	}
	if err := gone(cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, guardPolicy, metav1.DeleteOptions{})); err != nil {
		return err
	}
	if helperNS != "" {
		return gone(cs.RbacV1().Roles(helperNS).Delete(ctx, legacyProbeRole, metav1.DeleteOptions{}))
	}
	return nil
}
