package check

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kindlab/kindlab/internal/lab"
	"github.com/kindlab/kindlab/labs"
	"github.com/kindlab/kindlab/manifests"
)

// The shipped labels lab, step by step, on the states the book's commands leave,
// with a debug pod running, another leaving and the Service labs' web servers in
// the namespace: every check of a step fails on the state before it and passes on
// the state after it. (The end-to-end test proves the same on a real cluster.)
func TestLabelsLabChecksOnTheBooksStates(t *testing.T) {
	t.Parallel()
	set, err := lab.Load(labs.FS, manifests.FS)
	if err != nil {
		t.Fatal(err)
	}
	l, err := set.Get("labels")
	if err != nil {
		t.Fatal(err)
	}
	labelled := map[string]string{"app": "my-nginx-pods-label"}
	applied := map[string]string{lastApplied: "{}"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "replicaset-nginx", Namespace: ns, CreationTimestamp: rsMade, Annotations: applied},
		Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: &metav1.LabelSelector{MatchLabels: labelled}},
		Status:     appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 3},
	}
	myPod := func(owned bool) *corev1.Pod {
		var owner *metav1.OwnerReference
		if owned {
			owner = rsOwner("replicaset-nginx")
		}
		p := readyPod("my-nginx-pod", labelled, owner, "nginx:latest")
		p.Annotations = applied
		p.CreationTimestamp = metav1.NewTime(rsMade.Add(-time.Minute))
		return p
	}
	// states[i] is the namespace after step i-1's solution (states[0]: before the lab).
	states := [][]runtime.Object{
		{},
		{myPod(false)},
		{rs, myPod(true), made("a1", labelled, true, time.Second), made("b2", labelled, true, time.Second)},
		{rs, made("a1", labelled, true, time.Second), made("b2", labelled, true, time.Second), made("c3", labelled, true, time.Minute)},
		{rs, made("a1", nil, false, time.Second), made("b2", labelled, true, time.Second), made("c3", labelled, true, time.Minute), made("d4", labelled, true, 2*time.Minute)},
		{made("a1", nil, false, time.Second), terminating(made("b2", labelled, true, time.Second))},
	}
	if len(l.Steps) != len(states)-1 {
		t.Fatalf("the labels lab has %d steps; this test knows %d", len(l.Steps), len(states)-1)
	}
	for i, st := range l.Steps {
		for _, when := range []struct {
			name string
			objs []runtime.Object
			want Status
		}{{"before", states[i], Fail}, {"after", states[i+1], Pass}} {
			// Not the pod lab's my-nginx-pod: this lab's pod of that name takes its place.
			objs := append(append([]runtime.Object{}, when.objs...), leftovers(false)...)
			e := newEval(t, "en", nil, objs...)
			for _, c := range st.Checks {
				if r := e.Evaluate(context.Background(), &c, nil); r.Status != when.want {
					t.Errorf("%s, %s the solution: check %s is %s, want %s: %s %v", st.ID, when.name, c.ID, r.Status, when.want, r.Message, r.Evidence)
				}
			}
		}
	}
}
