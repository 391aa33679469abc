// Package kube holds client-go helpers: building clients from a kubeconfig and
// waiting for conditions with evidence when they do not come.
package kube

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// RESTConfigFromKubeconfig builds a client config from kubeconfig bytes and an
// optional context name.
func RESTConfigFromKubeconfig(kubeconfig []byte, context string) (*rest.Config, error) {
	cc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*cc, context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// KubeconfigNamespace is the namespace of a kubeconfig's context (the current one
// when context is empty); "" when it names none.
func KubeconfigNamespace(kubeconfig []byte, context string) (string, error) {
	cc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return "", fmt.Errorf("parse kubeconfig: %w", err)
	}
	if context == "" {
		context = cc.CurrentContext
	}
	if c := cc.Contexts[context]; c != nil {
		return c.Namespace, nil
	}
	return "", nil
}

// KubeconfigCurrentContext is the name of a kubeconfig's current context.
func KubeconfigCurrentContext(kubeconfig []byte) (string, error) {
	cc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return "", fmt.Errorf("parse kubeconfig: %w", err)
	}
	return cc.CurrentContext, nil
}

// PodCIDRs are the pod networks the nodes were given (spec.podCIDRs), deduplicated.
func PodCIDRs(ctx context.Context, cs kubernetes.Interface) ([]string, error) {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nodes.Items {
		for _, c := range n.Spec.PodCIDRs {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// ManagedByLabel with the value ManagedBy marks what kindlab itself made (its helper
// pod, a class's objects), never a learner's work.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedBy      = "kindlab"
)

// SystemNamespaces hold the pods a cluster needs before a lab can start: the
// control plane, kube-proxy, the pod network, DNS, and the default storage.
var SystemNamespaces = []string{"kube-system", "local-path-storage"}

// AddonNamespaces hold the pods of add-ons that start in the background once a
// cluster is ready (metallb-system: the load balancer, for the LoadBalancer lab).
var AddonNamespaces = []string{"metallb-system"}

// WaitSystemPodsReady waits until the cluster's system is up: a pod of each
// control-plane component, every pod in SystemNamespaces Ready (for a Deployment's
// pods, one Ready replica will do), and a Ready pod for every Deployment and
// DaemonSet there, so that add-ons whose pods do not exist yet are waited for. It
// watches (informers), so it returns as soon as the last pod turns Ready. On
// timeout the error names what is not Ready, why, and the latest warning events.
func WaitSystemPodsReady(ctx context.Context, cs kubernetes.Interface, timeout time.Duration) error {
	return WaitSystemReadySince(ctx, cs, timeout, nil)
}

// WaitSystemReadySince is WaitSystemPodsReady for a cluster whose nodes (re)started
// at the given times, by node name: after a restart the API server still shows
// every pod Ready as it was before the node stopped, until the kubelet writes
// again. So a pod on such a node counts only once each of its containers runs
// since the node started, and the node itself must be Ready by a heartbeat since.
func WaitSystemReadySince(ctx context.Context, cs kubernetes.Interface, timeout time.Duration, started map[string]time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	factory := informers.NewSharedInformerFactory(cs, 0)
	pods := factory.Core().V1().Pods()
	deployments := factory.Apps().V1().Deployments()
	daemonSets := factory.Apps().V1().DaemonSets()
	nodes := factory.Core().V1().Nodes()
	changed := make(chan struct{}, 1)
	notify := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { poke(changed) },
		UpdateFunc: func(any, any) { poke(changed) },
		DeleteFunc: func(any) { poke(changed) },
	}
	// Every node must be Ready, and every DaemonSet's pod on each.
	watched := []cache.SharedIndexInformer{pods.Informer(), deployments.Informer(), daemonSets.Informer(), nodes.Informer()}
	for _, inf := range watched {
		if _, err := inf.AddEventHandler(notify); err != nil {
			return err
		}
	}
	factory.Start(ctx.Done())
	defer func() { cancel(); factory.Shutdown() }() // Shutdown waits for the informers to stop

	notReady := []string{"the API server has not listed the system's pods yet"}
	var last systemState                // the latest look, for the time-out's log lines
	tick := time.NewTicker(time.Second) // the API server may be restarting: look anyway
	defer tick.Stop()
	// The first look waits for the informers' lists: an event may come before an
	// informer counts as synced, and a tick is a second away.
	synced := make([]cache.InformerSynced, len(watched))
	for i, inf := range watched {
		synced[i] = inf.HasSynced
	}
	cache.WaitForCacheSync(ctx.Done(), synced...)
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				if parent := context.Cause(ctx); parent != context.DeadlineExceeded {
					return parent
				}
				after := context.WithoutCancel(ctx)
				return fmt.Errorf("system pods not Ready after %s: %s%s%s", timeout, strings.Join(notReady, "; "), recentWarnings(after, cs), lastLogLines(after, cs, last.waiting()))
			case <-changed:
			case <-tick.C:
			}
		}
		if slices.ContainsFunc(watched, func(i cache.SharedIndexInformer) bool { return !i.HasSynced() }) {
			continue
		}
		st := systemState{started: started}
		st.nodes, _ = nodes.Lister().List(labels.Everything())
		for _, ns := range SystemNamespaces {
			p, _ := pods.Lister().Pods(ns).List(labels.Everything())
			d, _ := deployments.Lister().Deployments(ns).List(labels.Everything())
			ds, _ := daemonSets.Lister().DaemonSets(ns).List(labels.Everything())
			st.pods, st.deployments, st.daemonSets = append(st.pods, p...), append(st.deployments, d...), append(st.daemonSets, ds...)
		}
		last = st
		if notReady = st.notReady(); len(notReady) == 0 {
			return nil
		}
	}
}

func poke(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// systemState is what WaitSystemPodsReady judges: the objects of SystemNamespaces.
type systemState struct {
	pods        []*corev1.Pod
	deployments []*appsv1.Deployment
	daemonSets  []*appsv1.DaemonSet
	// started, when not nil, is when each restarted node started; nodes are the
	// cluster's nodes then.
	started map[string]time.Time
	nodes   []*corev1.Node
}

// since is the second from which a status written by the kubelet of a node is
// current (API times have whole seconds); zero for a node not restarted.
func (s systemState) since(node string) time.Time {
	if t, ok := s.started[node]; ok {
		return t.Truncate(time.Second)
	}
	return time.Time{}
}

// ready is PodReady, and for a pod on a restarted node, every container runs
// since the node started (until the kubelet writes again, the API server shows
// the pod as it was before the node stopped).
func (s systemState) ready(p *corev1.Pod) bool {
	if !PodReady(p) {
		return false
	}
	since := s.since(p.Spec.NodeName)
	if since.IsZero() {
		return true
	}
	if len(p.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running == nil || c.State.Running.StartedAt.Time.Before(since) {
			return false
		}
	}
	return true
}

// notReady lists, in a few words each, what keeps the system from being ready.
func (s systemState) notReady() []string {
	var out []string
	for node := range s.started {
		if !s.nodeReady(node) {
			out = append(out, "node "+node+" has not reported Ready since it started")
		}
	}
	components := map[string]bool{}
	for _, p := range s.pods {
		if p.Namespace == metav1.NamespaceSystem && p.Labels["tier"] == "control-plane" {
			components[p.Labels["component"]] = true
		}
	}
	for _, p := range s.waiting() {
		problem := PodProblem(p)
		if PodReady(p) {
			problem = "not restarted yet since its node started"
		}
		out = append(out, p.Namespace+"/"+p.Name+" ("+problem+")")
	}
	// The control plane's static pods appear as the kubelet mirrors them, one by
	// one: each must be there (and Ready, above).
	if missing := missingControlPlane(components); len(missing) > 0 {
		out = append(out, "no pod yet for "+strings.Join(missing, ", "))
	}
	// A workload whose pods the controller manager has not made yet.
	for _, d := range s.deployments {
		if (d.Spec.Replicas == nil || *d.Spec.Replicas > 0) && s.readyPods(d.Namespace, d.Spec.Selector) == 0 {
			out = append(out, "deployment "+d.Namespace+"/"+d.Name+" has no Ready pod yet")
		}
	}
	for _, d := range s.daemonSets {
		if n, want := s.readyPods(d.Namespace, d.Spec.Selector), d.Status.DesiredNumberScheduled; n == 0 || n < int(want) {
			out = append(out, fmt.Sprintf("daemonset %s/%s has %d of %d pods Ready", d.Namespace, d.Name, n, max(want, 1)))
		}
	}
	for _, n := range s.nodes {
		if _, restarted := s.started[n.Name]; !restarted && !NodeReady(n) {
			out = append(out, "node "+n.Name+" is not Ready")
		}
	}
	return out
}

// waiting lists the pods the system still waits for: not Ready and not done. A
// Deployment serves once one replica is Ready (CoreDNS's second replica often lags
// the first by seconds); every other pod must be Ready itself.
func (s systemState) waiting() []*corev1.Pod {
	readyOwners := map[types.UID]bool{}
	for _, p := range s.pods {
		if o := metav1.GetControllerOf(p); o != nil && o.Kind == "ReplicaSet" && s.ready(p) {
			readyOwners[o.UID] = true
		}
	}
	var out []*corev1.Pod
	for _, p := range s.pods {
		if p.Status.Phase == corev1.PodSucceeded {
			continue
		}
		if o := metav1.GetControllerOf(p); o != nil && o.Kind == "ReplicaSet" && readyOwners[o.UID] {
			continue
		}
		if !s.ready(p) {
			out = append(out, p)
		}
	}
	return out
}

// readyPods counts the Ready pods in ns that sel selects.
func (s systemState) readyPods(ns string, sel *metav1.LabelSelector) int {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return 0
	}
	n := 0
	for _, p := range s.pods {
		if p.Namespace == ns && selector.Matches(labels.Set(p.Labels)) && s.ready(p) {
			n++
		}
	}
	return n
}

// NodeReady reports the node's Ready condition.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// nodeReady reports whether a restarted node is Ready by a heartbeat since it started.
func (s systemState) nodeReady(name string) bool {
	since := s.since(name)
	for _, n := range s.nodes {
		if n.Name != name {
			continue
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue && !c.LastHeartbeatTime.Time.Before(since)
			}
		}
	}
	return false
}

// controlPlane are the components kubeadm runs as static pods, by their label.
var controlPlane = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// missingControlPlane lists the control-plane components with no pod among those
// seen (by their component label).
func missingControlPlane(seen map[string]bool) []string {
	var missing []string
	for _, c := range controlPlane {
		if !seen[c] {
			missing = append(missing, c)
		}
	}
	return missing
}

// PodReady reports the pod's Ready condition.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodProblem says in a few words why a pod is not Ready.
func PodProblem(p *corev1.Pod) string {
	for _, s := range p.Status.ContainerStatuses {
		if w := s.State.Waiting; w != nil && w.Reason != "" {
			return s.Name + ": " + w.Reason
		}
		if t := s.State.Terminated; t != nil {
			return fmt.Sprintf("%s: terminated (%s, exit %d)", s.Name, t.Reason, t.ExitCode)
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			return c.Message
		}
	}
	return string(p.Status.Phase)
}

func recentWarnings(ctx context.Context, cs kubernetes.Interface) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	evs, err := cs.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
	if err != nil || len(evs.Items) == 0 {
		return ""
	}
	sort.Slice(evs.Items, func(i, j int) bool { return evs.Items[i].LastTimestamp.After(evs.Items[j].LastTimestamp.Time) })
	var lines []string
	for i, e := range evs.Items {
		if i == 5 {
			break
		}
		lines = append(lines, fmt.Sprintf("%s/%s %s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message))
	}
	return "\nrecent warnings:\n  " + strings.Join(lines, "\n  ")
}

// lastLogLines is what the first few pods the system waits for last wrote: the
// last lines of each container's log (why CoreDNS is not ready, say, is in its
// own words there, not in an event).
func lastLogLines(ctx context.Context, cs kubernetes.Interface, pods []*corev1.Pod) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var lines []string
	for i, p := range pods {
		if i == 3 {
			break
		}
		for _, c := range p.Spec.Containers {
			raw, err := TailLog(ctx, cs, p.Namespace, p.Name, c.Name, false, 3, 2048)
			if err != nil || strings.TrimSpace(raw) == "" {
				continue
			}
			for _, l := range strings.Split(strings.TrimSpace(raw), "\n") {
				lines = append(lines, p.Namespace+"/"+p.Name+" "+c.Name+": "+l)
			}
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "\nlast log lines:\n  " + strings.Join(lines, "\n  ")
}

// TailLog is the last lines a container of a pod wrote (of its previous instance,
// when previous is set), at most maxBytes.
func TailLog(ctx context.Context, cs kubernetes.Interface, namespace, pod, container string, previous bool, lines, maxBytes int64) (string, error) {
	b, err := cs.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container: container, Previous: previous, TailLines: &lines, LimitBytes: &maxBytes,
	}).DoRaw(ctx)
	return string(b), err
}

// ValidateName reports whether s can name a namespace (a DNS-1123 label).
func ValidateName(s string) error {
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return fmt.Errorf("%q: %s", s, strings.Join(errs, "; "))
	}
	return nil
}
