// Package engine runs labs against a cluster: it sets steps up, evaluates their
// checks live (re-evaluating on every watched change), performs reference solutions,
// and resets what a lab and its learner created.
package engine

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
)

// Target is the cluster a Session works on.
type Target struct {
	Config *rest.Config
	// Namespace of the labs' objects.
	Namespace string
	// NodeAddress returns an address of a node reachable from this machine.
	NodeAddress func(ctx context.Context) (string, error)
	// HostPort is the 127.0.0.1 port mapped to NodePort 31000 (0: none).
	HostPort int
}

// Session is one connection to a cluster for one lab namespace.
type Session struct {
	Labs *lab.Set
	Lang string
	// Settle is how long checks must keep passing for a step to be done
	// (Settle by default; tests may shorten it).
	Settle time.Duration
	target Target
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	store  *check.Store
	eval   *check.Evaluator

	// probeMu guards the helper pod's state: where it is (probeNS, found once) and
	// whether it was Ready when last looked at.
	probeMu    sync.Mutex
	probeNS    string
	probeReady bool
}

// Open connects to the cluster and fills the watch cache.
func Open(ctx context.Context, set *lab.Set, t Target, lang string) (*Session, error) {
	if t.Namespace == "" {
		t.Namespace = "default"
	}
	cs, err := kubernetes.NewForConfig(t.Config)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(t.Config)
	if err != nil {
		return nil, err
	}
	s := &Session{Labs: set, Lang: lang, Settle: Settle, target: t, cs: cs, dyn: dyn}
	// A server that does not answer is said in seconds, not after the watch
	// cache's wait.
	if err := s.Ping(ctx); err != nil {
		return nil, fmt.Errorf("the API server at %s does not answer (is the cluster running? kindlab cluster status): %w", t.Config.Host, err)
	}
	s.store = check.NewStore(cs, t.Namespace)
	if err := s.store.Start(ctx); err != nil {
		return nil, err
	}
	s.eval = check.NewEvaluator(s.store, s, lang)
	return s, nil
}

// Close stops the watches.
func (s *Session) Close() { s.store.Shutdown() }

// LastChange is when the learner last changed an object of the lab namespace
// with kubectl or kindlab (zero: never); see check.Store.LastChange.
func (s *Session) LastChange() time.Time { return s.store.LastChange() }

// Client is the session's clientset.
func (s *Session) Client() kubernetes.Interface { return s.cs }

// OnChange calls fn after any watched object changes; the returned func removes it.
func (s *Session) OnChange(fn func()) (remove func()) { return s.store.OnChange(fn) }

// Namespace of the session.
func (s *Session) Namespace() string { return s.target.Namespace }

// SetLang switches the language of check messages ("ko" or "en").
func (s *Session) SetLang(lang string) {
	s.Lang = lang
	s.eval.SetLang(lang)
}

// Evaluate runs every check of a step once, with the learner's answers (check id
// -> value; only read).
func (s *Session) Evaluate(ctx context.Context, st *lab.Step, answers map[string]string) []check.Result {
	out := make([]check.Result, len(st.Checks))
	var wg sync.WaitGroup
	for i := range st.Checks {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			out[i] = s.eval.Evaluate(cctx, &st.Checks[i], answers)
		}(i)
	}
	wg.Wait()
	return out
}

// AllPass reports whether every result passed.
func AllPass(rs []check.Result) bool {
	for _, r := range rs {
		if r.Status != check.Pass {
			return false
		}
	}
	return len(rs) > 0
}

// Watch evaluates a step's checks whenever a watched object changes (and every
// interval for checks that talk to the network) and sends each new set of results.
// It returns when ctx ends.
func (s *Session) Watch(ctx context.Context, st *lab.Step, answers map[string]string, interval time.Duration, out chan<- []check.Result) {
	answers = maps.Clone(answers) // the caller may change its map meanwhile
	changed := make(chan struct{}, 1)
	remove := s.store.OnChange(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	defer remove()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	send := func() {
		rs := s.Evaluate(ctx, st, answers)
		select {
		case out <- rs:
		case <-ctx.Done():
		}
	}
	send()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			// Let a burst of events (a rollout) settle for a moment.
			time.Sleep(50 * time.Millisecond)
			select {
			case <-changed:
			default:
			}
			send()
		case <-tick.C:
			// Object checks read the cache and change only with events; the timer is
			// for checks that talk to the network and for answers typed elsewhere.
			send()
		}
	}
}

// Settle is how long a step's checks must keep passing before the step counts
// as done: a pod whose readiness flaps, or a rollout passing through a state
// that happens to match, does not tick a step. A kubelet probes at most once a
// second, so a verdict that holds this long has outlived one more probe at the
// fastest rate; slower probes that fail are caught by their events (see
// check's flapping rule). Its cost is measured in BENCHMARKS.md.
const Settle = time.Second

// WaitPass waits until every check of st (or only the named ones) passes and
// has kept passing for the session's settle time.
func (s *Session) WaitPass(ctx context.Context, st *lab.Step, answers map[string]string, timeout time.Duration, only ...string) ([]check.Result, error) {
	sub := *st
	if len(only) > 0 {
		sub.Checks = nil
		for _, c := range st.Checks {
			for _, id := range only {
				if c.ID == id {
					sub.Checks = append(sub.Checks, c)
				}
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := make(chan []check.Result)
	go s.Watch(ctx, &sub, answers, 500*time.Millisecond, ch)
	var (
		last []check.Result
		held <-chan time.Time
	)
	for {
		select {
		case rs := <-ch:
			last = rs
			switch {
			case !AllPass(rs):
				held = nil
			case held == nil:
				held = time.After(s.Settle)
			}
		case <-held:
			return last, nil
		case <-ctx.Done():
			if AllPass(last) {
				return last, fmt.Errorf("step %q: checks passed but did not hold for %s within %s", st.ID, s.Settle, timeout)
			}
			return last, fmt.Errorf("step %q: checks did not pass within %s", st.ID, timeout)
		}
	}
}

// Hold watches st's checks for the session's settle time and reports whether
// they passed throughout, with the last results: `kindlab check` records a step
// done only when it holds.
func (s *Session) Hold(ctx context.Context, st *lab.Step, answers map[string]string) ([]check.Result, bool) {
	if s.Settle <= 0 {
		rs := s.Evaluate(ctx, st, answers)
		return rs, AllPass(rs)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan []check.Result)
	go s.Watch(wctx, st, answers, 250*time.Millisecond, ch)
	var (
		last    []check.Result
		expired bool
	)
	timer := time.NewTimer(s.Settle)
	defer timer.Stop()
	for {
		select {
		case rs := <-ch:
			last = rs
			if !AllPass(rs) || expired {
				// Past the settle time, the first evaluation decides (an HTTP
				// check may take longer than the settle time to answer).
				return rs, AllPass(rs)
			}
		case <-timer.C:
			expired = true
			if last != nil {
				return last, true
			}
		case <-ctx.Done():
			return last, false
		}
	}
}

// Ping asks the API server whether it is ready.
func (s *Session) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return s.cs.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error()
}

// HostGet implements check.Cluster.
func (s *Session) HostGet(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext},
		// A pod's redirect must not send kindlab to another address of this machine:
		// the check reads the reply the lab's URL gave.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(b), err
}

// NodeAddress implements check.Cluster: the target's own way (a kind node's
// address on the kind network), else what the API says of the first node (its
// ExternalIP, or its InternalIP) — for a cluster reached through a kubeconfig, as a
// class learner's is.
func (s *Session) NodeAddress(ctx context.Context) (string, error) {
	if s.target.NodeAddress != nil {
		return s.target.NodeAddress(ctx)
	}
	nodes, err := s.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return "", fmt.Errorf("no node address known for this cluster (reading nodes: %w)", err)
	}
	for _, n := range nodes.Items {
		for _, want := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
			for _, a := range n.Status.Addresses {
				if a.Type == want && a.Address != "" {
					return a.Address, nil
				}
			}
		}
	}
	return "", fmt.Errorf("no node address known for this cluster (no node lists an address)")
}

// HostPort implements check.Cluster.
func (s *Session) HostPort() int { return s.target.HostPort }
