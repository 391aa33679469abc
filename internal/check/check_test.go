package check

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kindlab/kindlab/internal/lab"
)

const ns = "default"

func ptr[T any](v T) *T { return &v }

func readyPod(name string, labels map[string]string, owner *metav1.OwnerReference, image string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec:       corev1.PodSpec{NodeName: "kindlab-control-plane", Containers: []corev1.Container{{Name: "nginx", Image: image}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0." + name[len(name)-1:],
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return p
}

func rsOwner(name string) *metav1.OwnerReference {
	return &metav1.OwnerReference{Kind: "ReplicaSet", Name: name, Controller: ptr(true), APIVersion: "apps/v1"}
}

type fakeCluster struct {
	probeOut string
	probeErr error
	execOut  string
	hostBody string
	hostErr  error
	gotArgv  []string
	facts    map[string][]string
	// nodes, when not nil, are the cluster's nodes; hostBodies, when not nil,
	// answer the URLs they prefix (any other is refused).
	nodes      []Node
	hostBodies map[string]string
	// logs answer Logs by "pod/container/previous"; logCalls counts the calls.
	mu       sync.Mutex
	logs     map[string]string
	logCalls int
}

func (f *fakeCluster) Fact(_ context.Context, fact, object string) ([]string, error) {
	if v, ok := f.facts[fact+"/"+object]; ok {
		return v, nil
	}
	return nil, errors.New("no such fact")
}

func (f *fakeCluster) Probe(_ context.Context, argv ...string) (string, error) {
	f.gotArgv = argv
	return f.probeOut, f.probeErr
}
func (f *fakeCluster) Exec(_ context.Context, _, _ string, argv ...string) (string, error) {
	return f.execOut, nil
}
func (f *fakeCluster) HostGet(_ context.Context, url string) (string, error) {
	for prefix, body := range f.hostBodies {
		if strings.HasPrefix(url, prefix) {
			return body, nil
		}
	}
	if f.hostBodies != nil {
		return "", errors.New("connection refused")
	}
	return f.hostBody, f.hostErr
}
func (f *fakeCluster) ClusterNodes(context.Context) ([]Node, error) {
	if f.nodes == nil {
		return []Node{{Name: "kindlab-control-plane", Address: "172.18.0.2", Schedulable: true}}, nil
	}
	return f.nodes, nil
}
func (f *fakeCluster) NodeAddress(context.Context) (string, error) { return "172.18.0.2", nil }
func (f *fakeCluster) Logs(_ context.Context, pod, container string, previous bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logCalls++
	if out, ok := f.logs[fmt.Sprintf("%s/%s/%t", pod, container, previous)]; ok {
		return out, nil
	}
	return "", errors.New("no logs")
}
func (f *fakeCluster) HostPort() int { return 31000 }

func newEval(t testing.TB, lang string, fc *fakeCluster, objs ...runtime.Object) *Evaluator {
	t.Helper()
	cs := fake.NewClientset(objs...)
	st := NewStore(cs, ns)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := st.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Shutdown)
	if fc == nil {
		fc = &fakeCluster{}
	}
	return NewEvaluator(st, fc, lang)
}

func TestObjectChecks(t *testing.T) {
	t.Parallel()
	applied := readyPod("my-nginx-pod", nil, nil, "nginx:1.10")
	applied.Annotations = map[string]string{lastApplied: "{}"}
	rsPods := []runtime.Object{
		readyPod("rs-a1", map[string]string{"app": "web"}, rsOwner("rs"), "nginx:1.10"),
		readyPod("rs-b2", map[string]string{"app": "web"}, rsOwner("rs"), "nginx:1.10"),
		readyPod("orphan3", map[string]string{"app": "web"}, nil, "nginx:1.10"),
	}
	tests := []struct {
		name    string
		objs    []runtime.Object
		check   lab.Check
		want    Status
		message string
	}{
		{"exists: missing", nil, lab.Check{Exists: &lab.ObjectCheck{Kind: "Pod", Name: "my-nginx-pod"}}, Fail, "does not exist"},
		{"exists: present", []runtime.Object{applied}, lab.Check{Exists: &lab.ObjectCheck{Kind: "Pod", Name: "my-nginx-pod", Applied: true}}, Pass, "exists"},
		{"exists: not applied", []runtime.Object{readyPod("my-nginx-pod", nil, nil, "x")}, lab.Check{Exists: &lab.ObjectCheck{Kind: "Pod", Name: "my-nginx-pod", Applied: true}}, Fail, "kubectl apply"},
		{"absent: still there", []runtime.Object{applied}, lab.Check{Absent: &lab.ObjectCheck{Kind: "Pod", Name: "my-nginx-pod"}}, Fail, "still exists"},
		{"absent: gone", nil, lab.Check{Absent: &lab.ObjectCheck{Kind: "Pod", Name: "my-nginx-pod"}}, Pass, "gone"},
		{"match: subset", []runtime.Object{applied}, lab.Check{Match: &lab.MatchCheck{Kind: "Pod", Name: "my-nginx-pod",
			Fields: map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "nginx:1.10"}}}}}}, Pass, "expected"},
		{"match: differs", []runtime.Object{applied}, lab.Check{Match: &lab.MatchCheck{Kind: "Pod", Name: "my-nginx-pod",
			Fields: map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"image": "nginx:1.11"}}}}}}, Fail, "spec.containers[0].image is nginx:1.10, want nginx:1.11"},
		{"pods: count owned", rsPods, lab.Check{Pods: &lab.PodsCheck{Selector: "app=web", Count: ptr(2), Ready: true, Owner: "ReplicaSet/rs"}}, Pass, "matches 2"},
		{"pods: want 3 owned", rsPods, lab.Check{Pods: &lab.PodsCheck{Selector: "app=web", Count: ptr(3), Ready: true, Owner: "ReplicaSet/rs"}}, Fail, "selector app=web matches 2 Ready pods owned by ReplicaSet/rs; want 3"},
		{"pods: orphaned", rsPods, lab.Check{Pods: &lab.PodsCheck{Selector: "app=web", Count: ptr(1), Orphaned: true}}, Pass, "without an owner"},
		{"pods: total needs createdBy", rsPods, lab.Check{Pods: &lab.PodsCheck{Selector: "app=web", TotalCount: ptr(3)}}, Error, "totalCount needs createdBy"},
		{"pods: bad selector", rsPods, lab.Check{Pods: &lab.PodsCheck{Selector: "app in ("}}, Error, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEval(t, "en", nil, tt.objs...)
			c := tt.check
			c.ID = "c"
			r := e.Evaluate(context.Background(), &c, nil)
			if r.Status != tt.want || !strings.Contains(r.Message, tt.message) {
				t.Errorf("got %s %q, want %s containing %q", r.Status, r.Message, tt.want, tt.message)
			}
		})
	}
}

func TestMessagesInKorean(t *testing.T) {
	t.Parallel()
	e := newEval(t, "ko", nil)
	r := e.Evaluate(context.Background(), &lab.Check{ID: "c", Pods: &lab.PodsCheck{Selector: "app=webserver", Count: ptr(3), Ready: true}}, nil)
	if r.Status != Fail || !strings.Contains(r.Message, "셀렉터 app=webserver") || !strings.Contains(r.Message, "3 개여야 합니다") {
		t.Errorf("Korean message = %q", r.Message)
	}
}

func deployment(rev, image string, ready int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "my-nginx-deployment", Namespace: ns, UID: "d1",
			Annotations: map[string]string{revisionAnnotation: rev, "kubernetes.io/change-cause": "kubectl set image deployment my-nginx-deployment nginx=" + image + " --record=true"}},
		Spec:   appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: image}}}}},
		Status: appsv1.DeploymentStatus{Replicas: ready, ReadyReplicas: ready, UpdatedReplicas: ready},
	}
}

func replicaSet(name, image string, replicas int32, ann map[string]string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "my-nginx-deployment", Controller: ptr(true), UID: "d1"}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "my-nginx"}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: image}}}}},
		Status: appsv1.ReplicaSetStatus{ReadyReplicas: replicas},
	}
}

func TestDeploymentAndReplicaSetChecks(t *testing.T) {
	t.Parallel()
	objs := []runtime.Object{
		deployment("3", "nginx:1.10", 3),
		replicaSet("old", "nginx:1.10", 3, map[string]string{revisionAnnotation: "3", "deployment.kubernetes.io/revision-history": "1"}),
		replicaSet("new", "nginx:1.11", 0, map[string]string{revisionAnnotation: "2"}),
	}
	e := newEval(t, "en", nil, objs...)
	ctx := context.Background()
	for _, tt := range []struct {
		c    lab.Check
		want Status
		msg  string
	}{
		{lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", Revision: "3", Container: "nginx", Image: "nginx:1.10", ReadyReplicas: ptr(int32(3))}}, Pass, "revision=3"},
		{lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", Revision: "2"}}, Fail, "is at revision 3; want 2"},
		{lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", Container: "nginx", Image: "nginx:1.11"}}, Fail, "runs nginx:1.10; want nginx:1.11"},
		{lab.Check{Deployment: &lab.DeploymentCheck{Name: "missing"}}, Fail, "does not exist"},
		{lab.Check{ReplicaSet: &lab.ReplicaSetCheck{Deployment: "my-nginx-deployment", Image: "nginx:1.10", Replicas: ptr(int32(3)), Original: true}}, Pass, "old"},
		{lab.Check{ReplicaSet: &lab.ReplicaSetCheck{Deployment: "my-nginx-deployment", Image: "nginx:1.11", Original: true}}, Fail, "not the ReplicaSet of revision 1"},
		{lab.Check{ReplicaSet: &lab.ReplicaSetCheck{Name: "old", Selector: "app=other"}}, Fail, "selects app=my-nginx"},
	} {
		tt.c.ID = "c"
		if r := e.Evaluate(ctx, &tt.c, nil); r.Status != tt.want || !strings.Contains(r.Message, tt.msg) {
			t.Errorf("%+v: got %s %q, want %s containing %q", tt.c, r.Status, r.Message, tt.want, tt.msg)
		}
	}
}

func TestServiceAndEndpointChecks(t *testing.T) {
	t.Parallel()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "hostname-svc-nodeport", Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.1.2", Selector: map[string]string{"app": "webserver"},
			SessionAffinity: corev1.ServiceAffinityClientIP,
			Ports:           []corev1.ServicePort{{Name: "web-port", Port: 8080, TargetPort: intstr.FromInt32(80), NodePort: 31000}}},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "s1", Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: "hostname-svc-nodeport"}},
		Ports:      []discoveryv1.EndpointPort{{Port: ptr(int32(80))}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.0.5"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}},
			{Addresses: []string{"10.244.0.6"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(false)}},
		},
	}
	e := newEval(t, "en", nil, svc, slice)
	ctx := context.Background()
	for _, tt := range []struct {
		c    lab.Check
		want Status
		msg  string
	}{
		{lab.Check{Service: &lab.ServiceCheck{Name: "hostname-svc-nodeport", Type: "NodePort", Port: 8080, TargetPort: 80, PortName: "web-port", NodePort: 31000, SessionAffinity: "ClientIP", Selector: "app=webserver"}}, Pass, "nodePort=31000"},
		{lab.Check{Service: &lab.ServiceCheck{Name: "hostname-svc-nodeport", Type: "LoadBalancer"}}, Fail, "type is NodePort; want LoadBalancer"},
		{lab.Check{Service: &lab.ServiceCheck{Name: "hostname-svc-nodeport", HealthCheckNodePort: true}}, Fail, "healthCheckNodePort"},
		{lab.Check{Service: &lab.ServiceCheck{Name: "hostname-svc-nodeport", LoadBalancerAddress: true}}, Fail, "<pending>"},
		{lab.Check{Service: &lab.ServiceCheck{Name: "hostname-svc-nodeport", NoClusterIP: true}}, Fail, "has cluster IP 10.96.1.2"},
		{lab.Check{Endpoints: &lab.EndpointsCheck{Service: "hostname-svc-nodeport", Count: 1, Port: 80}}, Pass, "1 ready"},
		{lab.Check{Endpoints: &lab.EndpointsCheck{Service: "hostname-svc-nodeport", Count: 3, Port: 80}}, Fail, "has 1 ready endpoints; want 3"},
		{lab.Check{HostHTTP: &lab.HostHTTPCheck{Service: "hostname-svc-nodeport", Via: "hostPort", Contains: "Hello"}}, Fail, "without \"Hello\""},
	} {
		tt.c.ID = "c"
		if r := e.Evaluate(ctx, &tt.c, nil); r.Status != tt.want || !strings.Contains(r.Message, tt.msg) {
			t.Errorf("%+v: got %s %q, want %s containing %q", tt.c, r.Status, r.Message, tt.want, tt.msg)
		}
	}
}

func TestHTTPCheckCountsPods(t *testing.T) {
	t.Parallel()
	reply := func(host string) string { return "<p>Hello, " + host + "</p>\n" + replySep + "\n" }
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}, Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.9"}}
	for _, tt := range []struct {
		name string
		out  string
		c    lab.HTTPCheck
		want Status
		msg  string
	}{
		{"spread", reply("a") + reply("b") + reply("a"), lab.HTTPCheck{URL: "http://{svc:web}:8080", Requests: 3, DistinctAtLeast: 2, Contains: "Hello"}, Pass, "answered by 2 pod(s)"},
		{"one pod only", reply("a") + reply("a"), lab.HTTPCheck{URL: "http://{svc:web}:8080", Requests: 2, DistinctAtLeast: 2}, Fail, "reached 1 pod(s); want at least 2"},
		{"affinity", reply("a") + reply("a"), lab.HTTPCheck{URL: "http://{svc:web}", Requests: 2, SamePod: true}, Pass, ""},
		{"affinity broken", reply("a") + reply("b"), lab.HTTPCheck{URL: "http://{svc:web}", Requests: 2, SamePod: true}, Fail, "want all at one pod"},
		{"refused", "curl: (7) Failed to connect\n" + replySep, lab.HTTPCheck{URL: "http://{svc:web}", Contains: "Hello"}, Fail, "1 of 1 requests"},
		{"unknown pod", "", lab.HTTPCheck{URL: "http://{pod:nope}", Contains: "x"}, Fail, "has no IP yet"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fc := &fakeCluster{probeOut: tt.out}
			e := newEval(t, "en", fc, svc)
			c := tt.c
			r := e.Evaluate(context.Background(), &lab.Check{ID: "h", HTTP: &c}, nil)
			if r.Status != tt.want || !strings.Contains(r.Message, tt.msg) {
				t.Errorf("got %s %q, want %s containing %q", r.Status, r.Message, tt.want, tt.msg)
			}
			if tt.want == Pass && fc.gotArgv[len(fc.gotArgv)-1] != "http://10.96.0.9:8080" && fc.gotArgv[len(fc.gotArgv)-1] != "http://10.96.0.9" {
				t.Errorf("url passed to the helper pod = %q; the placeholder was not filled", fc.gotArgv[len(fc.gotArgv)-1])
			}
		})
	}
}

func TestProbeErrorIsError(t *testing.T) {
	t.Parallel()
	e := newEval(t, "en", &fakeCluster{probeErr: errors.New("helper pod gone")})
	r := e.Evaluate(context.Background(), &lab.Check{ID: "d", DNS: &lab.DNSCheck{Name: "x", CNAME: "y"}}, nil)
	if r.Status != Error {
		t.Errorf("got %s, want error when the helper pod cannot run", r.Status)
	}
}

func TestDNSAndExecAndAnswer(t *testing.T) {
	t.Parallel()
	pod := readyPod("my-nginx-pod", nil, nil, "nginx:1.10")
	fc := &fakeCluster{probeOut: "my.database.com.\n", execOut: "<title>Welcome to nginx!</title>"}
	e := newEval(t, "en", fc, pod)
	ctx := context.Background()
	if r := e.Evaluate(ctx, &lab.Check{ID: "d", DNS: &lab.DNSCheck{Name: "externalname-svc", CNAME: "my.database.com"}}, nil); r.Status != Pass {
		t.Errorf("dns: %s %q", r.Status, r.Message)
	}
	if r := e.Evaluate(ctx, &lab.Check{ID: "e", Exec: &lab.ExecCheck{Pod: "my-nginx-pod", Command: []string{"curl", "-s", "localhost"}, Contains: "Welcome to nginx!"}}, nil); r.Status != Pass {
		t.Errorf("exec: %s %q", r.Status, r.Message)
	}
	ans := &lab.Check{ID: "ip", Answer: &lab.AnswerCheck{Truth: "podIP", Object: "my-nginx-pod", Question: lab.Text{En: "pod IP?", Ko: "포드 IP?"}}}
	if r := e.Evaluate(ctx, ans, nil); r.Status != Fail || !strings.Contains(r.Message, "waiting for your answer") {
		t.Errorf("unanswered: %s %q", r.Status, r.Message)
	}
	if r := e.Evaluate(ctx, ans, map[string]string{"ip": "10.0.0.1"}); r.Status != Fail {
		t.Errorf("wrong answer: %s %q", r.Status, r.Message)
	}
	if r := e.Evaluate(ctx, ans, map[string]string{"ip": pod.Status.PodIP}); r.Status != Pass {
		t.Errorf("right answer: %s %q", r.Status, r.Message)
	}
}

// A fact about the whole cluster takes any of its answers, in any case; a name
// the cluster does not show fails, as does a fact the cluster cannot tell.
func TestAnswerOfAClusterFact(t *testing.T) {
	t.Parallel()
	fc := &fakeCluster{facts: map[string][]string{"containerRuntime/": {"containerd", "containerd://1.6.20"}}}
	e := newEval(t, "en", fc)
	ctx := context.Background()
	rt := &lab.Check{ID: "rt", Answer: &lab.AnswerCheck{Truth: "containerRuntime", Question: lab.Text{En: "runtime?", Ko: "런타임?"}}}
	for answer, want := range map[string]Status{"containerd": Pass, " Containerd ": Pass, "containerd://1.6.20": Pass, "docker": Fail, "": Fail} {
		if r := e.Evaluate(ctx, rt, map[string]string{"rt": answer}); r.Status != want {
			t.Errorf("answer %q: %s %q, want %s", answer, r.Status, r.Message, want)
		}
	}
	if got, err := e.Truth(ctx, rt.Answer); err != nil || got != "containerd" {
		t.Errorf("Truth = %q, %v; want what the cluster shows first", got, err)
	}
	node := &lab.Check{ID: "n", Answer: &lab.AnswerCheck{Truth: "apiServerNode", Question: lab.Text{En: "node?", Ko: "노드?"}}}
	if r := e.Evaluate(ctx, node, map[string]string{"n": "kindlab-control-plane"}); r.Status != Fail || !strings.Contains(r.Message, "cannot answer yet") {
		t.Errorf("a fact the cluster cannot tell: %s %q", r.Status, r.Message)
	}
}

// Spread: replicas on enough nodes; on one node, that node is enough.
func TestPodsSpreadOverNodes(t *testing.T) {
	t.Parallel()
	on := func(name, node string) *corev1.Pod {
		p := readyPod(name, map[string]string{"app": "web"}, nil, "nginx")
		p.Spec.NodeName = node
		return p
	}
	three := []Node{{Name: "cp", Address: "172.18.0.2"}, {Name: "w1", Address: "172.18.0.3", Schedulable: true}, {Name: "w2", Address: "172.18.0.4", Schedulable: true}}
	check := &lab.Check{ID: "s", Pods: &lab.PodsCheck{Selector: "app=web", Count: ptr(3), Ready: true, Spread: 2}}
	ctx := context.Background()
	e := newEval(t, "en", &fakeCluster{nodes: three}, on("web-1", "w1"), on("web-2", "w1"), on("web-3", "w1"))
	if r := e.Evaluate(ctx, check, nil); r.Status != Fail || !strings.Contains(r.Message, "on 1 node(s); want them spread over 2") {
		t.Errorf("all on w1: %s %q", r.Status, r.Message)
	}
	e = newEval(t, "en", &fakeCluster{nodes: three}, on("web-1", "w1"), on("web-2", "w2"), on("web-3", "w1"))
	if r := e.Evaluate(ctx, check, nil); r.Status != Pass || !strings.Contains(r.Message, "on 2 node(s)") {
		t.Errorf("over w1 and w2: %s %q", r.Status, r.Message)
	}
	e = newEval(t, "en", nil, on("web-1", "kindlab-control-plane"), on("web-2", "kindlab-control-plane"), on("web-3", "kindlab-control-plane"))
	if r := e.Evaluate(ctx, check, nil); r.Status != Pass {
		t.Errorf("one node: %s %q", r.Status, r.Message)
	}
	e = newEval(t, "en", &fakeCluster{nodes: three}, on("web-1", "w1"))
	if r := e.Evaluate(ctx, check, nil); r.Status != Fail || !strings.Contains(r.Message, "want 3") {
		t.Errorf("a count that fails is said first: %s %q", r.Status, r.Message)
	}
}

// everyNode: the NodePort on every node's address; with onlyWherePods, the nodes
// without a pod of the Service must not answer (externalTrafficPolicy Local).
func TestNodePortOnEveryNode(t *testing.T) {
	t.Parallel()
	three := []Node{{Name: "cp", Address: "172.18.0.2"}, {Name: "w1", Address: "172.18.0.3", Schedulable: true}, {Name: "w2", Address: "172.18.0.4", Schedulable: true}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}}}
	p := readyPod("web-1", map[string]string{"app": "web"}, nil, "nginx")
	p.Spec.NodeName = "w1"
	all := map[string]string{"http://172.18.0.2:": "Hello", "http://172.18.0.3:": "Hello", "http://172.18.0.4:": "Hello"}
	every := &lab.Check{ID: "n", HostHTTP: &lab.HostHTTPCheck{Service: "web", Via: "everyNode", Contains: "Hello"}}
	local := &lab.Check{ID: "l", HostHTTP: &lab.HostHTTPCheck{Service: "web", Via: "everyNode", OnlyWherePods: true, Contains: "Hello"}}
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		check  *lab.Check
		bodies map[string]string
		want   Status
		msg    string
	}{
		{"every node answers", every, all, Pass, "answers on every node's address (3)"},
		{"one node is silent", every, map[string]string{"http://172.18.0.3:": "Hello", "http://172.18.0.4:": "Hello"}, Fail, "cp (http://172.18.0.2:30080) does not answer"},
		{"Local: only the pod's node answers", local, map[string]string{"http://172.18.0.3:": "Hello"}, Pass, "only on the node(s) that run a pod of web (1 of 3)"},
		{"Local: a node without a pod answers", local, all, Fail, "runs no pod of web but answers"},
		{"Local: the pod's node is silent", local, map[string]string{}, Fail, "w1 (http://172.18.0.3:30080) does not answer"},
	} {
		e := newEval(t, "en", &fakeCluster{nodes: three, hostBodies: tt.bodies}, svc, p)
		if r := e.Evaluate(ctx, tt.check, nil); r.Status != tt.want || !strings.Contains(r.Message, tt.msg) {
			t.Errorf("%s: %s %q %v, want %s %q", tt.name, r.Status, r.Message, r.Evidence, tt.want, tt.msg)
		}
	}
}

// An API error surfaces through the watch: the cache never fills, and Start says so.
func TestStoreStartFailsWhenTheAPIRefuses(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset()
	cs.PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	st := NewStore(cs, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 2*1e9)
	defer cancel()
	if err := st.Start(ctx); err == nil || !strings.Contains(err.Error(), "cluster up") {
		t.Errorf("Start = %v, want an error that says to check the cluster", err)
	}
	st.Shutdown()
}

func TestReplicaSetReplacedCountsThisReplicaSetsEvents(t *testing.T) {
	t.Parallel()
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "replicaset-nginx", Namespace: ns, UID: "new"},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}},
		Status:     appsv1.ReplicaSetStatus{ReadyReplicas: 3},
	}
	event := func(name string, uid types.UID, count int32) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Reason: "SuccessfulCreate", Count: count,
			InvolvedObject: corev1.ObjectReference{Kind: "ReplicaSet", Name: "replicaset-nginx", UID: uid}}
	}
	c := &lab.Check{ID: "r", ReplicaSet: &lab.ReplicaSetCheck{Name: "replicaset-nginx", Replicas: ptr(int32(3)), Replaced: true}}
	// Three pods made, and an old ReplicaSet of the same name made five: not replaced.
	e := newEval(t, "en", nil, rs, event("a", "new", 3), event("old", "old", 5))
	if r := e.Evaluate(context.Background(), c, nil); r.Status != Fail || !strings.Contains(r.Message, "created 3 pods for 3 replicas") {
		t.Errorf("before a delete: %s %q", r.Status, r.Message)
	}
	e = newEval(t, "en", nil, rs, event("a", "new", 3), event("b", "new", 1))
	if r := e.Evaluate(context.Background(), c, nil); r.Status != Pass {
		t.Errorf("after a delete: %s %q", r.Status, r.Message)
	}
}

// A Service whose selector matches no pod: the endpoints check names the pod that
// comes closest and the label that differs, in the learner's language.
func TestEndpointsNameTheNearestMiss(t *testing.T) {
	t.Parallel()
	svc := func(name string, sel map[string]string) *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.ServiceSpec{Selector: sel}}
	}
	objs := []runtime.Object{
		svc("typo", map[string]string{"app": "webserverx"}),
		svc("two-keys", map[string]string{"app": "webserver", "tier": "front"}),
		svc("selects", map[string]string{"app": "webserver"}),
		readyPod("hostname-deployment-a", map[string]string{"app": "webserver"}, nil, "alicek106/rr-test:echo-hostname"),
		readyPod("other", map[string]string{"run": "debug"}, nil, "alicek106/ubuntu:curl"),
	}
	for _, tt := range []struct {
		lang, service string
		want          string
	}{
		{"en", "typo", "selector app=webserverx matches no pod — closest: pod hostname-deployment-a (app=webserverx wanted, app=webserver found)"},
		{"en", "two-keys", "closest: pod hostname-deployment-a (tier=front wanted, no tier label)"},
		{"ko", "typo", "가장 가까운 포드 hostname-deployment-a (app=webserverx 이어야 하는데 app=webserver)"},
		// It selects a pod: the missing endpoints have another cause; no guess.
		{"en", "selects", ""},
	} {
		e := newEval(t, tt.lang, nil, objs...)
		r := e.Evaluate(context.Background(), &lab.Check{ID: "c", Endpoints: &lab.EndpointsCheck{Service: tt.service, Count: 1}}, nil)
		if r.Status != Fail || !strings.Contains(r.Diagnosis, tt.want) || tt.want == "" && r.Diagnosis != "" {
			t.Errorf("%s %s: %s %q, diagnosis %q, want it to say %q", tt.lang, tt.service, r.Status, r.Message, r.Diagnosis, tt.want)
		}
	}
}
