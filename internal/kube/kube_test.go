package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

func pod(name string, ready bool, owner string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	if owner != "" {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: owner, UID: "uid-" + types.UID(owner), Controller: &yes}}
	}
	return p
}

// static is a control-plane pod as the kubelet mirrors it.
func static(component string, ready bool) *corev1.Pod {
	p := pod(component, ready, "")
	p.Labels = map[string]string{"component": component, "tier": "control-plane"}
	return p
}

func TestWaitSystemPodsReady(t *testing.T) {
	t.Parallel()
	base := []runtime.Object{static("etcd", true), static("kube-apiserver", true), static("kube-controller-manager", true),
		static("kube-scheduler", true), pod("kube-proxy", true, ""), pod("cni", true, "")}
	// One CoreDNS replica Ready is enough: the Service answers.
	ok := append(append([]runtime.Object{}, base...), pod("coredns-a", true, "coredns"), pod("coredns-b", false, "coredns"))
	if err := WaitSystemPodsReady(context.Background(), fake.NewClientset(ok...), 2*time.Second); err != nil {
		t.Errorf("one ready CoreDNS replica: %v", err)
	}
	// A static pod that is not Ready blocks, and the error names it.
	bad := append(append([]runtime.Object{}, base[1:]...), static("etcd", false), pod("coredns-a", true, "coredns"))
	err := WaitSystemPodsReady(context.Background(), fake.NewClientset(bad...), time.Second)
	if err == nil || !strings.Contains(err.Error(), "kube-system/etcd") {
		t.Errorf("not-ready etcd: %v", err)
	}
	// The error carries what the waiting pod's containers last wrote (the fake
	// API server's log of every container is "fake logs").
	withContainer := static("etcd", false)
	withContainer.Spec.Containers = []corev1.Container{{Name: "etcd"}}
	bad = append(append([]runtime.Object{}, base[1:]...), withContainer, pod("coredns-a", true, "coredns"))
	err = WaitSystemPodsReady(context.Background(), fake.NewClientset(bad...), time.Second)
	if err == nil || !strings.Contains(err.Error(), "last log lines:\n  kube-system/etcd etcd: fake logs") {
		t.Errorf("not-ready etcd's log: %v", err)
	}
}

func TestWaitSystemPodsReadyWantsTheWholeControlPlane(t *testing.T) {
	t.Parallel()
	// Seven Ready pods, but the kubelet has not mirrored etcd and the controller
	// manager yet.
	lb := func(name string) *corev1.Pod { p := pod(name, true, ""); p.Namespace = "metallb-system"; return p }
	objs := []runtime.Object{static("kube-apiserver", true), static("kube-scheduler", true), pod("kube-proxy", true, ""),
		pod("cni", true, ""), pod("coredns-a", true, "coredns"), lb("controller"), lb("speaker")}
	err := WaitSystemPodsReady(context.Background(), fake.NewClientset(objs...), time.Second)
	if err == nil || !strings.Contains(err.Error(), "no pod yet for etcd, kube-controller-manager") {
		t.Errorf("control plane not all mirrored: %v", err)
	}
}

func TestWaitSystemPodsReadyWaitsForEveryWorkload(t *testing.T) {
	t.Parallel()
	objs := []runtime.Object{static("etcd", true), static("kube-apiserver", true), static("kube-controller-manager", true),
		static("kube-scheduler", true), pod("kube-proxy", true, ""), pod("coredns-a", true, "coredns")}
	objs[5].(*corev1.Pod).Labels = map[string]string{"k8s-app": "kube-dns"}
	one := int32(1)
	dep := func(ns, name string, sel map[string]string) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: sel}}}
	}
	ok := append(append([]runtime.Object{}, objs...), dep("kube-system", "coredns", map[string]string{"k8s-app": "kube-dns"}))
	if err := WaitSystemPodsReady(context.Background(), fake.NewClientset(ok...), 2*time.Second); err != nil {
		t.Errorf("every workload has a Ready pod: %v", err)
	}
	// The provisioner's Deployment exists, its pod does not yet: not ready, and said so.
	missing := append(ok, dep("local-path-storage", "local-path-provisioner", map[string]string{"app": "local-path-provisioner"}),
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kindlab-cni"},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "kindlab-cni"}}}},
		// The load balancer starts in the background: not waited for.
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: "speaker"},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"component": "speaker"}}}})
	err := WaitSystemPodsReady(context.Background(), fake.NewClientset(missing...), time.Second)
	if err != nil && strings.Contains(err.Error(), "metallb-system") {
		t.Errorf("waited for the load balancer: %v", err)
	}
	for _, want := range []string{"deployment local-path-storage/local-path-provisioner has no Ready pod yet", "daemonset kube-system/kindlab-cni has 0 of 1 pods Ready"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
}

// On several nodes a DaemonSet runs a pod on each: one Ready pod is not enough,
// and a node that is not Ready holds the cluster back.
func TestWaitSystemPodsReadyWantsADaemonSetPodOnEveryNode(t *testing.T) {
	t.Parallel()
	flannel := func(name string, ready bool) *corev1.Pod {
		p := pod(name, ready, "")
		p.Labels = map[string]string{"app": "flannel"}
		return p
	}
	node := func(name string, ready bool) *corev1.Node {
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}}}
	}
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-flannel"},
		Spec:   appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "flannel"}}},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3}}
	base := []runtime.Object{static("etcd", true), static("kube-apiserver", true), static("kube-controller-manager", true),
		static("kube-scheduler", true), ds, flannel("f1", true), flannel("f2", true), node("n1", true), node("n2", true)}
	err := WaitSystemPodsReady(context.Background(), fake.NewClientset(append(base, flannel("f3", false), node("n3", false))...), time.Second)
	for _, want := range []string{"daemonset kube-system/kube-flannel has 2 of 3 pods Ready", "node n3 is not Ready"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
	if err := WaitSystemPodsReady(context.Background(), fake.NewClientset(append(base, flannel("f3", true), node("n3", true))...), 2*time.Second); err != nil {
		t.Errorf("every node and pod Ready: %v", err)
	}
}

func TestWaitSystemPodsReadyReturnsOnceTheLastPodTurnsReady(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset(static("etcd", true), static("kube-apiserver", true), static("kube-controller-manager", true),
		static("kube-scheduler", false))
	done := make(chan error, 1)
	go func() { done <- WaitSystemPodsReady(context.Background(), cs, time.Minute) }()
	select {
	case err := <-done:
		t.Fatalf("returned before the scheduler was Ready: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := cs.CoreV1().Pods("kube-system").UpdateStatus(context.Background(), static("kube-scheduler", true), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWaitSystemPodsReadyStopsWithItsContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	if err := WaitSystemPodsReady(ctx, fake.NewClientset(), time.Minute); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// After a node restarts, the API server shows every pod Ready as before it stopped:
// only containers running since the node started, and a heartbeat since, count.
func TestWaitSystemReadySinceWantsStatusesFromAfterTheRestart(t *testing.T) {
	t.Parallel()
	started := time.Date(2026, 11, 30, 12, 0, 0, 500, time.UTC)
	on := func(p *corev1.Pod, runningSince time.Time) *corev1.Pod {
		p.Spec.NodeName = "n1"
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(runningSince)}}}}
		return p
	}
	node := func(heartbeat time.Time) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.NewTime(heartbeat)}}}}
	}
	before, after := started.Add(-time.Hour), started.Add(3*time.Second)
	objs := func(apiserverSince, heartbeat time.Time) []runtime.Object {
		var o []runtime.Object
		for _, c := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
			since := after
			if c == "kube-apiserver" {
				since = apiserverSince
			}
			o = append(o, on(static(c, true), since))
		}
		return append(o, node(heartbeat))
	}
	at := map[string]time.Time{"n1": started}
	err := WaitSystemReadySince(context.Background(), fake.NewClientset(objs(before, after)...), time.Second, at)
	if err == nil || !strings.Contains(err.Error(), "kube-system/kube-apiserver (not restarted yet since its node started)") {
		t.Errorf("a Ready status from before the restart: %v", err)
	}
	err = WaitSystemReadySince(context.Background(), fake.NewClientset(objs(after, before)...), time.Second, at)
	if err == nil || !strings.Contains(err.Error(), "node n1 has not reported Ready since it started") {
		t.Errorf("a heartbeat from before the restart: %v", err)
	}
	// A heartbeat in the second the node started counts (API times have whole seconds).
	if err := WaitSystemReadySince(context.Background(), fake.NewClientset(objs(after, started.Truncate(time.Second))...), 2*time.Second, at); err != nil {
		t.Errorf("every status from after the restart: %v", err)
	}
	// Without restarted nodes, the old statuses are as good as any.
	if err := WaitSystemPodsReady(context.Background(), fake.NewClientset(objs(before, before)...), 2*time.Second); err != nil {
		t.Errorf("no restart: %v", err)
	}
}
