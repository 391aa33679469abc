package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestHostGetDoesNotFollowRedirects: a Service's pod that answers with a redirect
// must not make kindlab fetch another URL from the learner's machine.
func TestHostGetDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var hit atomic.Bool
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit.Store(true)
		w.Write([]byte("secret"))
	}))
	defer inner.Close()
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/admin", http.StatusFound)
	}))
	defer outer.Close()
	body, err := (&Session{}).HostGet(context.Background(), outer.URL)
	if err != nil {
		t.Fatal(err)
	}
	if hit.Load() {
		t.Errorf("the redirect was followed (body %q)", body)
	}
}

// TestNodeAddressFromTheAPI: a session reached through a kubeconfig (a class
// learner's) learns the node's address from the Node object.
func TestNodeAddressFromTheAPI(t *testing.T) {
	t.Parallel()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
		{Type: corev1.NodeHostName, Address: "n"}, {Type: corev1.NodeInternalIP, Address: "172.18.0.3"},
	}}}
	s := &Session{cs: fake.NewClientset(node)}
	addr, err := s.NodeAddress(context.Background())
	if err != nil || addr != "172.18.0.3" {
		t.Errorf("NodeAddress = %q, %v", addr, err)
	}
}

// TestHelperPlaceIsNotDecidedByACancelledCheck: a check cancelled while kindlab
// asks where its helper may run (the learner left the step) must not send every
// later check's helper to the lab's namespace.
func TestHelperPlaceIsNotDecidedByACancelledCheck(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset()
	var calls atomic.Int32
	cs.PrependReactor("create", "selfsubjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if calls.Add(1) == 1 {
			return true, nil, context.Canceled
		}
		r := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		r.Status.Allowed = true
		return true, r, nil
	})
	s := &Session{cs: cs, target: Target{Namespace: "learner"}}
	if _, err := s.ensureProbe(context.Background()); err == nil {
		t.Fatal("a cancelled review placed the helper")
	}
	// The next check asks again (its helper never turns Ready here: the fake
	// cluster runs no pods, so a short wait).
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s.ensureProbe(ctx)
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	if s.probeNS != ProbeNamespace {
		t.Errorf("helper namespace after a cancelled check: %q, want %q", s.probeNS, ProbeNamespace)
	}
}
