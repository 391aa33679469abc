package engine

import (
	"context"
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
