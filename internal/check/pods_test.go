package check

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kindlab/kindlab/internal/lab"
)

var rsMade = metav1.NewTime(time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC))

// made is a pod replicaset-nginx made at its creation time plus after.
func made(suffix string, labels map[string]string, owned bool, after time.Duration) *corev1.Pod {
	var owner *metav1.OwnerReference
	if owned {
		owner = rsOwner("replicaset-nginx")
	}
	p := readyPod("replicaset-nginx-"+suffix, labels, owner, "nginx:latest")
	p.GenerateName = "replicaset-nginx-"
	p.CreationTimestamp = metav1.NewTime(rsMade.Add(after))
	return p
}

func terminating(p *corev1.Pod) *corev1.Pod {
	now := metav1.Now()
	p.DeletionTimestamp = &now
	p.Finalizers = []string{"kindlab.dev/test"} // the fake tracker keeps it, as kubelet does during grace
	return p
}

// What a learner following the book leaves in the namespace besides the lab's
// pods: `kubectl run -i --tty --rm debug` (still running in another terminal, and
// one on its way out), the Service labs' web servers and, with podLab, the pod
// lab's my-nginx-pod.
func leftovers(podLab bool) []runtime.Object {
	debugging := readyPod("debug", map[string]string{"run": "debug"}, nil, "alicek106/ubuntu:curl")
	leaving := terminating(readyPod("debug2", map[string]string{"run": "debug"}, nil, "alicek106/ubuntu:curl"))
	web := readyPod("hostname-deployment-7d9-a", map[string]string{"app": "webserver"}, rsOwner("hostname-deployment-7d9"), "alicek106/rr-test:echo-hostname")
	web.GenerateName = "hostname-deployment-7d9-"
	out := []runtime.Object{debugging, leaving, web}
	if podLab {
		out = append(out, readyPod("my-nginx-pod", nil, nil, "nginx:latest"))
	}
	return out
}

func hasPod(objs []runtime.Object, name string) bool {
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && p.Name == name {
			return true
		}
	}
	return false
}

func TestPodsMadeByAReplicaSetIgnoreWhatTheLearnerLeftBehind(t *testing.T) {
	t.Parallel()
	labelled := map[string]string{"app": "my-nginx-pods-label"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "replicaset-nginx", Namespace: ns, CreationTimestamp: rsMade},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: &metav1.LabelSelector{MatchLabels: labelled}},
	}
	adopted := readyPod("my-nginx-pod", labelled, rsOwner("replicaset-nginx"), "nginx:latest")
	adopted.CreationTimestamp = metav1.NewTime(rsMade.Add(-time.Minute))
	// A pod whose label a learner removed the last time they did the lab.
	oldOrphan := made("old99", nil, false, -time.Hour)

	// The labels lab's states, after each step's reference solution.
	afterAdoption := []runtime.Object{rs, adopted, made("a1", labelled, true, time.Second), made("b2", labelled, true, time.Second)}
	afterDelete := []runtime.Object{rs, made("a1", labelled, true, time.Second), made("b2", labelled, true, time.Second), made("c3", labelled, true, time.Minute)}
	afterRemoveLabel := append(append([]runtime.Object{}, afterDelete...), made("d4", labelled, true, 2*time.Minute))
	afterRemoveLabel[1] = made("a1", nil, false, time.Second)
	afterRSDeleted := []runtime.Object{made("a1", nil, false, time.Second),
		terminating(made("b2", labelled, true, time.Second)), terminating(made("c3", labelled, true, time.Minute)), terminating(made("d4", labelled, true, 2*time.Minute))}

	onlyTwoNew := lab.PodsCheck{CreatedBy: "ReplicaSet/replicaset-nginx", Count: ptr(2), Ready: true, Owner: "ReplicaSet/replicaset-nginx", TotalCount: ptr(2)}
	threeOfFour := lab.PodsCheck{CreatedBy: "ReplicaSet/replicaset-nginx", Selector: "app=my-nginx-pods-label", Count: ptr(3), Ready: true, Owner: "ReplicaSet/replicaset-nginx", TotalCount: ptr(4)}
	oneOrphan := lab.PodsCheck{CreatedBy: "ReplicaSet/replicaset-nginx", Selector: "!app", Count: ptr(1), Orphaned: true}
	onlyOrphanLeft := lab.PodsCheck{CreatedBy: "ReplicaSet/replicaset-nginx", Selector: "!app", Count: ptr(1), Orphaned: true, TotalCount: ptr(1)}

	for _, tt := range []struct {
		name    string
		objs    []runtime.Object
		check   lab.PodsCheck
		want    Status
		message string
	}{
		{"only two new: before the ReplicaSet", []runtime.Object{readyPod("my-nginx-pod", labelled, nil, "nginx:latest")}, onlyTwoNew, Fail, "the pods ReplicaSet/replicaset-nginx made include 0 Ready pods owned by ReplicaSet/replicaset-nginx; want 2"},
		{"only two new: adopted", afterAdoption, onlyTwoNew, Pass, "include 2 Ready pods owned by ReplicaSet/replicaset-nginx; 2 made by ReplicaSet/replicaset-nginx in all"},
		{"only two new: three made", append(afterAdoption, made("x9", labelled, true, time.Second)), onlyTwoNew, Fail, "include 3 Ready pods"},
		{"only two new: one not Ready yet", append(afterAdoption[:3:3], func() runtime.Object {
			p := made("b2", labelled, true, time.Second)
			p.Status.Conditions = nil
			return p
		}()), onlyTwoNew, Fail, "include 1 Ready pods"},
		{"four in all: before the label is removed", afterDelete, threeOfFour, Fail, "ReplicaSet/replicaset-nginx has made 3 pods that still exist; want 4"},
		{"four in all: after", afterRemoveLabel, threeOfFour, Pass, "selector app=my-nginx-pods-label among the pods ReplicaSet/replicaset-nginx made matches 3 Ready pods"},
		{"four in all: an earlier run's orphan is not this ReplicaSet's", append(afterRemoveLabel, oldOrphan), threeOfFour, Pass, "4 made by"},
		{"one orphan: before", afterDelete, oneOrphan, Fail, "matches 0 pods without an owner; want 1"},
		{"one orphan: after", afterRemoveLabel, oneOrphan, Pass, "matches 1 pods without an owner"},
		{"one orphan: an earlier run's orphan is not this ReplicaSet's", append(afterRemoveLabel, oldOrphan), oneOrphan, Pass, "matches 1"},
		{"only the orphan left: before", afterRemoveLabel, onlyOrphanLeft, Fail, "has made 4 pods that still exist; want 1"},
		{"only the orphan left: after, the others terminating", afterRSDeleted, onlyOrphanLeft, Pass, "1 made by ReplicaSet/replicaset-nginx in all"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Where the lab has a my-nginx-pod, it is the pod lab's, labelled.
			objs := append(append([]runtime.Object{}, tt.objs...), leftovers(!hasPod(tt.objs, "my-nginx-pod"))...)
			e := newEval(t, "en", nil, objs...)
			c := tt.check
			r := e.Evaluate(context.Background(), &lab.Check{ID: "c", Pods: &c}, nil)
			if r.Status != tt.want || !strings.Contains(r.Message, tt.message) {
				t.Errorf("got %s %q %v\nwant %s containing %q", r.Status, r.Message, r.Evidence, tt.want, tt.message)
			}
		})
	}
}

// Pods being deleted never count: the debug pod of `kubectl run --rm` may take its
// grace period to go.
func TestPodsChecksIgnoreTerminatingPods(t *testing.T) {
	t.Parallel()
	e := newEval(t, "en", nil, terminating(readyPod("debug", map[string]string{"run": "debug"}, nil, "alicek106/ubuntu:curl")),
		terminating(readyPod("my-nginx-pod", nil, nil, "nginx:latest")))
	for _, c := range []lab.PodsCheck{
		{Selector: "run=debug", Count: ptr(0)},
		{Name: "my-nginx-pod", Count: ptr(0)},
	} {
		if r := e.Evaluate(context.Background(), &lab.Check{ID: "c", Pods: &c}, nil); r.Status != Pass {
			t.Errorf("%+v: got %s %q, want pass", c, r.Status, r.Message)
		}
	}
}

func TestPodsMadeByInKorean(t *testing.T) {
	t.Parallel()
	e := newEval(t, "ko", nil, leftovers(true)...)
	r := e.Evaluate(context.Background(), &lab.Check{ID: "c", Pods: &lab.PodsCheck{CreatedBy: "ReplicaSet/replicaset-nginx", Selector: "!app", Count: ptr(1), Orphaned: true, TotalCount: ptr(1)}}, nil)
	if want := "ReplicaSet/replicaset-nginx 이(가) 만든 포드 중 셀렉터 !app 에 맞는 포드 (소유자 없음): 0 개; 1 개여야 합니다"; r.Status != Fail || r.Message != want {
		t.Errorf("got %s %q\nwant %q", r.Status, r.Message, want)
	}
}
