package check

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kindlab/kindlab/internal/lab"
)

// notReady is pod name with label app=web whose container c is in state st
// (with lastState last), not Ready.
func notReady(name string, st, last corev1.ContainerState, restarts int32) *corev1.Pod {
	p := readyPod(name, map[string]string{"app": "web"}, nil, "alicek106/rr-test:echo-hostname")
	p.UID = types.UID("uid-" + name)
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "nginx", State: st, LastTerminationState: last, RestartCount: restarts}}
	return p
}

func warning(kind, name string, uid types.UID, reason, message string, at time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: name + "." + reason + at.Format("150405"), Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, UID: uid},
		Type:           corev1.EventTypeWarning, Reason: reason, Message: message, LastTimestamp: metav1.NewTime(at),
	}
}

func service(name string, typ corev1.ServiceType, sel map[string]string, nodePort int32, target intstr.IntOrString) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID("uid-" + name)},
		Spec: corev1.ServiceSpec{Type: typ, Selector: sel,
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: target, NodePort: nodePort}}},
	}
}

// Each failing check carries a diagnosis, in the learner's language, of why —
// read from the state the cluster holds, never a guess when it holds nothing.
func TestDiagnosesSayWhyACheckFails(t *testing.T) {
	t.Parallel()
	now := time.Now()
	crashed := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: metav1.NewTime(now)}}
	backoff := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting failed container"}}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	webReady := lab.Check{Pods: &lab.PodsCheck{Selector: "app=web", Count: ptr(1), Ready: true}}

	probing := notReady("web-a", running, corev1.ContainerState{}, 0)
	unschedulable := notReady("web-a", corev1.ContainerState{}, corev1.ContainerState{}, 0)
	unschedulable.Status.Phase = corev1.PodPending
	unschedulable.Status.ContainerStatuses = nil
	unschedulable.Status.Conditions = append(unschedulable.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: "Unschedulable", Message: "0/1 nodes are available: 1 Insufficient memory."})
	configErr := notReady("web-a", corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: `configmap "x" not found`}}, corev1.ContainerState{}, 0)
	withMessage := notReady("web-a", backoff, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error", Message: "starting\nnginx: [emerg] unknown directive \"x\"\n"}}, 4)

	d := deployment("2", "nginx:1.11", 0)
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "my-nginx"}}
	quotaRS := replicaSet("my-nginx-deployment-7d", "nginx:1.11", 3, map[string]string{revisionAnnotation: "2"})
	quotaRS.Status = appsv1.ReplicaSetStatus{Conditions: []appsv1.ReplicaSetCondition{{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
		Message: `pods "my-nginx-deployment-7d-x" is forbidden: exceeded quota: kindlab-learner, requested: pods=1, used: pods=20, limited: pods=20`}}}
	stuck := deployment("2", "nginx:1.11", 0)
	stuck.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
		Message: `ReplicaSet "my-nginx-deployment-7d" has timed out progressing.`}}

	unrecorded := deployment("2", "nginx:1.11", 3)
	delete(unrecorded.Annotations, "kubernetes.io/change-cause")

	lb := service("hostname-svc-lb", corev1.ServiceTypeLoadBalancer, map[string]string{"app": "web"}, 30001, intstr.FromInt32(80))
	holder := service("hostname-svc-nodeport", corev1.ServiceTypeNodePort, map[string]string{"app": "web"}, 31000, intstr.FromInt32(80))

	for _, tt := range []struct {
		name  string
		lang  string
		objs  []runtime.Object
		logs  map[string]string
		check lab.Check
		want  string // the diagnosis contains it; "" wants none
	}{
		{"a crashed container and its last log line", "en", []runtime.Object{notReady("web-a", backoff, crashed, 3)},
			map[string]string{"web-a/nginx/true": "starting\nerror: cannot bind :80: permission denied\n"}, webReady,
			"container nginx of pod web-a exited with code 1 (Error), restarted 3 times; its last log line: error: cannot bind :80: permission denied"},
		{"a container that keeps ending", "en", []runtime.Object{notReady("web-a", backoff, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed"}}, 5)},
			nil, webReady, "exited with code 0 (Completed), restarted 5 times"},
		{"its termination message before its log", "ko", []runtime.Object{withMessage}, nil, webReady,
			`포드 web-a 의 컨테이너 nginx 이(가) 종료 코드 2 (Error) 로 끝났습니다, 재시작 4 번; 마지막 로그: nginx: [emerg] unknown directive "x"`},
		{"a restartPolicy Never pod that failed", "en", []runtime.Object{notReady("web-a", crashed, corev1.ContainerState{}, 0)},
			map[string]string{"web-a/nginx/false": "panic: boom"}, webReady, "exited with code 1 (Error); its last log line: panic: boom"},
		{"a failing readiness probe", "en", []runtime.Object{probing, warning("Pod", "web-a", probing.UID, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 404", now)},
			nil, webReady, "pod web-a is not Ready — Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 404"},
		{"an event of an earlier pod of the same name is not this one's", "en", []runtime.Object{probing, warning("Pod", "web-a", "uid-old", "Unhealthy", "old", now)},
			nil, webReady, "container nginx of pod web-a runs but is not Ready: its readiness probe has not passed yet"},
		{"no node for it", "en", []runtime.Object{unschedulable}, nil, webReady, "pod web-a cannot be scheduled: 0/1 nodes are available: 1 Insufficient memory."},
		{"a container that cannot start", "en", []runtime.Object{configErr}, nil, webReady, `container nginx of pod web-a cannot start: CreateContainerConfigError: configmap "x" not found`},
		{"a pod on its way has no diagnosis", "en", []runtime.Object{notReady("web-a", corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}, corev1.ContainerState{}, 0)},
			nil, webReady, ""},
		{"a count of pods whatever their state", "en", []runtime.Object{notReady("web-a", backoff, crashed, 3)}, nil,
			lab.Check{Pods: &lab.PodsCheck{Selector: "app=web", Count: ptr(2)}}, ""},
		{"a pods check whose selector matches nothing", "en", []runtime.Object{readyPod("web-a", map[string]string{"app": "web"}, nil, "x")}, nil,
			lab.Check{Pods: &lab.PodsCheck{Selector: "app=webx", Count: ptr(1)}}, "closest: pod web-a (app=webx wanted, app=web found)"},
		{"a selector no pod comes near (another kind of work, kindlab's helper pod)", "en", []runtime.Object{readyPod("kindlab-probe", map[string]string{"app.kubernetes.io/name": "kindlab-probe"}, nil, "x")}, nil,
			lab.Check{Pods: &lab.PodsCheck{Selector: "app=webx", Count: ptr(1)}}, ""},
		{"a typo in a name", "en", []runtime.Object{readyPod("my-nginx-pdo", nil, nil, "nginx:latest")}, nil,
			lab.Check{Exists: &lab.ObjectCheck{Kind: "Pod", Name: "my-nginx-pod"}}, "there is no Pod my-nginx-pod, but there is a Pod my-nginx-pdo: a typo in the name?"},
		{"a name far from any", "en", []runtime.Object{readyPod("web-a", nil, nil, "nginx:latest")}, nil,
			lab.Check{Exists: &lab.ObjectCheck{Kind: "Pod", Name: "my-nginx-pod"}}, ""},
		{"a Pod where a Deployment was asked for", "en", []runtime.Object{readyPod("my-nginx-deployment", nil, nil, "nginx:1.10")}, nil,
			lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", ReadyReplicas: ptr(int32(3))}}, "my-nginx-deployment is a Pod, not a Deployment: check the file's kind"},
		{"a quota", "en", []runtime.Object{d, quotaRS}, nil, lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", ReadyReplicas: ptr(int32(3))}},
			"ReplicaSet my-nginx-deployment-7d cannot create pods: pods \"my-nginx-deployment-7d-x\" is forbidden: exceeded quota"},
		{"a rollout past its deadline", "en", []runtime.Object{stuck}, nil, lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", ReadyReplicas: ptr(int32(3))}},
			"Deployment my-nginx-deployment does not progress: ReplicaSet \"my-nginx-deployment-7d\" has timed out progressing."},
		{"the wrong revision names the history", "en", []runtime.Object{deployment("3", "nginx:1.10", 3),
			replicaSet("a", "nginx:1.10", 3, map[string]string{revisionAnnotation: "3", "kubernetes.io/change-cause": "kubectl apply --record"}),
			replicaSet("b", "nginx:1.11", 0, map[string]string{revisionAnnotation: "2"})}, nil,
			lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", Revision: "2"}},
			"rollout history: 2 nginx:1.11 (no change-cause), 3 nginx:1.10 (kubectl apply --record); now at revision 3"},
		{"no --record", "ko", []runtime.Object{unrecorded, replicaSet("b", "nginx:1.11", 3, map[string]string{revisionAnnotation: "2"})}, nil,
			lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", ChangeCause: "--record"}}, "롤아웃 기록: 2 nginx:1.11 (change-cause 없음); 지금은 리비전 2"},
		{"a nodePort held by another Service", "en", []runtime.Object{holder}, nil,
			lab.Check{Service: &lab.ServiceCheck{Name: "hostname-svc-nodeport-affinity", NodePort: 31000}},
			"nodePort 31000 is held by Service hostname-svc-nodeport: one nodePort belongs to one Service; delete hostname-svc-nodeport or pick another port"},
		{"the host port's nodePort held by another Service", "en", []runtime.Object{holder, service("mine", corev1.ServiceTypeNodePort, nil, 30500, intstr.FromInt32(80))}, nil,
			lab.Check{HostHTTP: &lab.HostHTTPCheck{Service: "mine", Via: "hostPort"}}, "nodePort 31000 is held by Service hostname-svc-nodeport"},
		{"a load balancer that says why", "en", []runtime.Object{lb, warning("Service", lb.Name, lb.UID, "AllocationFailed", "Failed to allocate IP for \"default/hostname-svc-lb\": no available IPs", now)}, nil,
			lab.Check{Service: &lab.ServiceCheck{Name: lb.Name, LoadBalancerAddress: true}}, "the load balancer says AllocationFailed: Failed to allocate IP for \"default/hostname-svc-lb\": no available IPs"},
		{"no load balancer at all", "en", []runtime.Object{lb}, nil,
			lab.Check{Service: &lab.ServiceCheck{Name: lb.Name, LoadBalancerAddress: true}}, "no load balancer has given it an address yet"},
		{"a Service with no selector", "en", []runtime.Object{service("s", corev1.ServiceTypeClusterIP, nil, 0, intstr.FromInt32(80))}, nil,
			lab.Check{Endpoints: &lab.EndpointsCheck{Service: "s", Count: 3}}, "Service s has no selector: no pod becomes its endpoint"},
		{"a targetPort the pods do not declare", "en", []runtime.Object{service("s", corev1.ServiceTypeClusterIP, map[string]string{"app": "web"}, 0, intstr.FromInt32(8080)), func() *corev1.Pod {
			p := readyPod("web-a", map[string]string{"app": "web"}, nil, "x")
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80}}
			return p
		}()}, nil, lab.Check{HTTP: &lab.HTTPCheck{URL: "http://{svc:s}:80"}}, "targetPort 8080 of Service s is not a port its pods declare (80)"},
		{"a Service's pods that crash", "en", []runtime.Object{service("s", corev1.ServiceTypeNodePort, map[string]string{"app": "web"}, 31000, intstr.FromInt32(80)), notReady("web-a", backoff, crashed, 2)}, nil,
			lab.Check{HostHTTP: &lab.HostHTTPCheck{Service: "s", Via: "hostPort"}}, "container nginx of pod web-a exited with code 1 (Error), restarted 2 times"},
		{"replicas off by one", "en", []runtime.Object{replicaSet("replicaset-nginx", "nginx:latest", 2, nil),
			readyPod("replicaset-nginx-a", map[string]string{"app": "web"}, rsOwner("replicaset-nginx"), "nginx:latest"),
			readyPod("replicaset-nginx-b", map[string]string{"app": "web"}, rsOwner("replicaset-nginx"), "nginx:latest")}, nil,
			lab.Check{Pods: &lab.PodsCheck{Selector: "app=web", Count: ptr(3), Ready: true}}, "ReplicaSet replicaset-nginx asks for 2 replicas (spec.replicas); the check counts 3"},
		{"a named pod without the label", "en", []runtime.Object{readyPod("my-nginx-pod", map[string]string{"app": "my-nginx-pod-label"}, nil, "nginx:latest")}, nil,
			lab.Check{Pods: &lab.PodsCheck{Name: "my-nginx-pod", Selector: "app=my-nginx-pods-label", Count: ptr(1)}},
			"pod my-nginx-pod does not match selector app=my-nginx-pods-label (app=my-nginx-pods-label wanted, app=my-nginx-pod-label found)"},
		{"a selector changed in place", "en", []runtime.Object{replicaSet("replicaset-nginx", "nginx:latest", 3, nil)}, nil,
			lab.Check{ReplicaSet: &lab.ReplicaSetCheck{Name: "replicaset-nginx", Selector: "app=our-nginx-pods-label"}}, "a ReplicaSet's selector cannot change"},
		{"the wrong Service type", "en", []runtime.Object{service("s", corev1.ServiceTypeClusterIP, map[string]string{"app": "web"}, 0, intstr.FromInt32(80))}, nil,
			lab.Check{Service: &lab.ServiceCheck{Name: "s", Type: "NodePort"}}, "a ClusterIP Service is reached only from inside the cluster; set type: NodePort"},
		{"a nodePort not mapped to this machine", "en", []runtime.Object{service("s", corev1.ServiceTypeNodePort, map[string]string{"app": "web"}, 31001, intstr.FromInt32(80))}, nil,
			lab.Check{Service: &lab.ServiceCheck{Name: "s", NodePort: 31000}}, "only nodePort 31000 is mapped to this machine's 127.0.0.1"},
		{"no session affinity", "en", []runtime.Object{service("s", corev1.ServiceTypeNodePort, map[string]string{"app": "web"}, 31001, intstr.FromInt32(80))}, nil,
			lab.Check{Service: &lab.ServiceCheck{Name: "s", SessionAffinity: "ClientIP"}}, "each request may reach another pod"},
		{"exec in a pod of a typo'd name", "en", []runtime.Object{readyPod("my-nginx-pods", nil, nil, "x")}, nil,
			lab.Check{Exec: &lab.ExecCheck{Pod: "my-nginx-pod", Command: []string{"true"}, Contains: "x"}}, "but there is a Pod my-nginx-pods"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEval(t, tt.lang, &fakeCluster{logs: tt.logs, hostBodies: map[string]string{}}, tt.objs...)
			c := tt.check
			c.ID = "c"
			r := e.Evaluate(context.Background(), &c, nil)
			if r.Status != Fail {
				t.Fatalf("got %s %q, want a failure", r.Status, r.Message)
			}
			if tt.want == "" && r.Diagnosis != "" || !strings.Contains(r.Diagnosis, tt.want) {
				t.Errorf("message %q\ndiagnosis %q\nwant %q", r.Message, r.Diagnosis, tt.want)
			}
		})
	}
}

// A crashed container's log is asked once per crash, however often its check
// is evaluated; its next crash is asked again.
func TestACrashsLogIsReadOnce(t *testing.T) {
	t.Parallel()
	crashed := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: metav1.Now()}}
	backoff := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
	fc := &fakeCluster{logs: map[string]string{"web-a/nginx/true": "boom"}}
	e := newEval(t, "en", fc, notReady("web-a", backoff, crashed, 3))
	c := &lab.Check{ID: "c", Pods: &lab.PodsCheck{Selector: "app=web", Count: ptr(1), Ready: true}}
	for range 5 {
		if r := e.Evaluate(context.Background(), c, nil); !strings.HasSuffix(r.Diagnosis, "its last log line: boom") {
			t.Fatalf("diagnosis %q", r.Diagnosis)
		}
	}
	if fc.logCalls != 1 {
		t.Errorf("the log was asked %d times for one crash, want once", fc.logCalls)
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b  string
		limit int
		want  int
	}{
		{"my-nginx-pod", "my-nginx-pod", 3, 0},
		{"my-nginx-pod", "my-nginx-pdo", 3, 2},
		{"my-nginx-pod", "my-nginx-pods", 3, 1},
		{"hostname-svc-nodeport", "hostname-svc-clusterip", 4, 4},
		{"", "abc", 5, 3},
		{"abc", "", 2, 2},
	} {
		if got := editDistance(tt.a, tt.b, tt.limit); got != tt.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

// A Ready pod whose readiness probe failed within the probe's failure window
// is not counted Ready: a readiness that comes and goes cannot pass a check.
func TestAFlappingReadinessIsNotReady(t *testing.T) {
	t.Parallel()
	pod := func(name string) *corev1.Pod {
		p := readyPod(name, map[string]string{"app": "web"}, nil, "nginx:latest")
		p.UID = types.UID("uid-" + name)
		p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{PeriodSeconds: 10, FailureThreshold: 3} // a 60s window
		return p
	}
	c := &lab.Check{ID: "c", Pods: &lab.PodsCheck{Selector: "app=web", Count: ptr(1), Ready: true}}
	for _, tt := range []struct {
		name string
		ago  time.Duration
		want Status
	}{
		{"failed 1s ago", time.Second, Fail},
		{"failed 45s ago", 45 * time.Second, Fail},
		{"failed 61s ago", 61 * time.Second, Pass},
	} {
		p := pod("web-a")
		// The evaluation reads the event's age on a stopped clock: under -race a
		// real one ran on past the next whole second.
		now := time.Now()
		e := newEval(t, "en", nil, p, warning("Pod", p.Name, p.UID, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 500", now.Add(-tt.ago)))
		e.now = func() time.Time { return now }
		r := e.Evaluate(context.Background(), c, nil)
		if r.Status != tt.want {
			t.Errorf("%s: %s %q %v", tt.name, r.Status, r.Message, r.Evidence)
		}
		if tt.want == Fail && !strings.Contains(strings.Join(r.Evidence, " "), "its readiness probe failed "+tt.ago.String()+" ago") {
			t.Errorf("%s: evidence %v does not say the probe failed", tt.name, r.Evidence)
		}
	}
}

// The load balancer announces a Local-policy address from a node that runs one
// of the Service's Ready pods: MetalLB's nodeAssigned event names that node.
func TestAnnouncedWherePods(t *testing.T) {
	t.Parallel()
	lb := service("hostname-svc-lb-local", corev1.ServiceTypeLoadBalancer, map[string]string{"app": "web"}, 30001, intstr.FromInt32(80))
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "172.18.255.201"}}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "lb-1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: lb.Name}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.1.5"}, NodeName: ptr("kindlab-worker"), Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}},
			{Addresses: []string{"10.244.2.5"}, NodeName: ptr("kindlab-worker2"), Conditions: discoveryv1.EndpointConditions{Ready: ptr(false)}},
		},
	}
	announced := func(node string, uid types.UID, at time.Time) *corev1.Event {
		ev := warning("Service", lb.Name, uid, "nodeAssigned", `announcing from node "`+node+`" with protocol "layer2"`, at)
		ev.Type = corev1.EventTypeNormal
		return ev
	}
	now := time.Now()
	c := &lab.Check{ID: "c", Service: &lab.ServiceCheck{Name: lb.Name, AnnouncedWherePods: true}}
	for _, tt := range []struct {
		name string
		evs  []runtime.Object
		want Status
		msg  string
	}{
		{"from the pod's node", []runtime.Object{announced("kindlab-worker", lb.UID, now)}, Pass, ""},
		{"last from the pod's node", []runtime.Object{announced("kindlab-worker2", lb.UID, now.Add(-time.Minute)), announced("kindlab-worker", lb.UID, now)}, Pass, ""},
		{"from a node without a Ready pod", []runtime.Object{announced("kindlab-worker2", lb.UID, now)}, Fail, "announced from node kindlab-worker2, which runs no Ready pod of it (pods on kindlab-worker)"},
		{"by no node", nil, Fail, "no node announces 172.18.255.201 yet"},
		{"about an earlier Service of the name", []runtime.Object{announced("kindlab-worker", "old", now)}, Fail, "no node announces"},
	} {
		e := newEval(t, "en", nil, append([]runtime.Object{lb, slice}, tt.evs...)...)
		r := e.Evaluate(context.Background(), c, nil)
		if r.Status != tt.want || !strings.Contains(r.Message, tt.msg) {
			t.Errorf("%s: %s %q %v", tt.name, r.Status, r.Message, r.Evidence)
		}
	}
}
