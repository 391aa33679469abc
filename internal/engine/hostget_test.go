package engine

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
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
