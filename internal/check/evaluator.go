package check

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kindlab/kindlab/internal/lab"
)

// Cluster is what active checks need beyond the object cache. The real one runs
// commands in kindlab's helper pod and sends requests from the host; tests fake it.
type Cluster interface {
	// Probe runs argv in kindlab's helper pod inside the cluster.
	Probe(ctx context.Context, argv ...string) (string, error)
	// Exec runs argv in a container of a pod in the lab's namespace.
	Exec(ctx context.Context, pod, container string, argv ...string) (string, error)
	// HostGet requests url from the learner's machine and returns the body.
	HostGet(ctx context.Context, url string) (string, error)
	// NodeAddress is an address of a node reachable from the host.
	NodeAddress(ctx context.Context) (string, error)
	// HostPort is the host port on 127.0.0.1 mapped to NodePort 31000 (0: none).
	HostPort() int
	// ClusterNodes lists the cluster's nodes: name, an address reachable from
	// this machine, and whether pods may be scheduled to it.
	ClusterNodes(ctx context.Context) ([]Node, error)
	// Fact reads a fact about the whole cluster that an answer check asks for
	// (lab.ClusterFacts: the node running the API server, the container runtime,
	// ...), with object naming what it is about where the fact needs one. The
	// first value is what the cluster shows; the others are answers as good.
	Fact(ctx context.Context, fact, object string) ([]string, error)
	// Logs is the tail of a container's log in a pod of the lab's namespace: of
	// its previous instance (the one that crashed) when previous is set.
	Logs(ctx context.Context, pod, container string, previous bool) (string, error)
}

// Node is one node of the cluster, as ClusterNodes lists it.
type Node struct {
	Name, Address string
	// Schedulable: not cordoned, and no taint that keeps the labs' pods off it
	// (a control plane with workers beside it has one).
	Schedulable bool
}

// Evaluator evaluates checks of one lab namespace.
type Evaluator struct {
	Store   *Store
	Cluster Cluster
	lang    atomic.Pointer[string]
	logs    logCache
	// now is the clock the age of events is read with (time.Now; a test sets it).
	now func() time.Time
}

// NewEvaluator returns an Evaluator that speaks lang ("ko" or "en").
func NewEvaluator(store *Store, cluster Cluster, lang string) *Evaluator {
	e := &Evaluator{Store: store, Cluster: cluster, now: time.Now}
	e.SetLang(lang)
	return e
}

// msg returns the message helper of the current language.
func (e *Evaluator) msg() msg { return msg{lang: *e.lang.Load()} }

// SetLang switches the language of messages.
// It is safe while checks run.
func (e *Evaluator) SetLang(lang string) { e.lang.Store(&lang) }

// Evaluate runs one check. answers are what the learner typed, by check id (read,
// never kept: every caller passes its own).
func (e *Evaluator) Evaluate(ctx context.Context, c *lab.Check, answers map[string]string) Result {
	r := Result{Check: c.ID, Kind: c.KindName(), Title: c.Title.In(e.msg().lang)}
	var (
		st  Status
		ms  string
		evd []string
	)
	switch {
	case c.Exists != nil:
		st, ms, evd = e.exists(c.Exists)
	case c.Absent != nil:
		st, ms, evd = e.absent(c.Absent)
	case c.Match != nil:
		st, ms, evd = e.match(c.Match)
	case c.Pods != nil:
		st, ms, evd = e.pods(c.Pods)
		if st == Pass && c.Pods.Spread > 0 {
			st, ms, evd = e.spread(ctx, c.Pods, ms)
		}
	case c.Deployment != nil:
		st, ms, evd = e.deployment(c.Deployment)
	case c.ReplicaSet != nil:
		st, ms, evd = e.replicaSet(c.ReplicaSet)
	case c.Service != nil:
		st, ms, evd = e.service(c.Service)
	case c.Endpoints != nil:
		st, ms, evd = e.endpoints(c.Endpoints)
	case c.HTTP != nil:
		st, ms, evd = e.http(ctx, c.HTTP)
	case c.HostHTTP != nil:
		st, ms, evd = e.hostHTTP(ctx, c.HostHTTP)
	case c.DNS != nil:
		st, ms, evd = e.dns(ctx, c.DNS)
	case c.Exec != nil:
		st, ms, evd = e.exec(ctx, c.Exec)
	case c.Answer != nil:
		st, ms, evd = e.answer(ctx, c.ID, c.Answer, answers)
	default:
		st, ms = Error, fmt.Sprintf("check %q has no kind", c.ID)
	}
	// Messages and evidence quote what pods said (HTTP bodies, command output,
	// names): no terminal control sequence of theirs reaches a terminal or report.
	r.Status, r.Message = st, Printable(ms)
	if st == Fail {
		r.Diagnosis = Printable(e.diagnose(ctx, c))
	}
	for _, v := range evd {
		r.Evidence = append(r.Evidence, Printable(v))
	}
	return r
}

// Printable replaces control characters (but newline and tab) and invalid UTF-8
// in s with visible escapes: ESC becomes "\x1b".
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r != '\n' && r != '\t' && unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r != '\n' && r != '\t' && unicode.IsControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Truth is the value an answer check wants, read from the cluster.
func (e *Evaluator) Truth(ctx context.Context, c *lab.AnswerCheck) (string, error) {
	ts, err := e.truths(ctx, c)
	if err != nil {
		return "", err
	}
	return ts[0], nil
}

// truths are the answers an answer check takes, what the cluster shows first.
func (e *Evaluator) truths(ctx context.Context, c *lab.AnswerCheck) ([]string, error) {
	if lab.ClusterFacts[c.Truth] {
		ts, err := e.Cluster.Fact(ctx, c.Truth, c.Object)
		if err == nil && (len(ts) == 0 || ts[0] == "") {
			err = fmt.Errorf("the cluster shows no %s", c.Truth)
		}
		return ts, err
	}
	switch c.Truth {
	case "podIP", "podHostname", "podNode":
		p, err := e.Store.Pod(c.Object)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, fmt.Errorf("pod %s does not exist", c.Object)
		}
		switch c.Truth {
		case "podIP":
			return []string{p.Status.PodIP}, nil
		case "podNode":
			return []string{p.Spec.NodeName}, nil
		}
		if p.Spec.Hostname != "" {
			return []string{p.Spec.Hostname}, nil
		}
		return []string{p.Name}, nil
	case "serviceClusterIP", "serviceNodePort":
		s, err := e.Store.Service(c.Object)
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, fmt.Errorf("service %s does not exist", c.Object)
		}
		if c.Truth == "serviceClusterIP" {
			return []string{s.Spec.ClusterIP}, nil
		}
		if len(s.Spec.Ports) == 0 || s.Spec.Ports[0].NodePort == 0 {
			return nil, fmt.Errorf("service %s has no node port", c.Object)
		}
		return []string{fmt.Sprint(s.Spec.Ports[0].NodePort)}, nil
	}
	return nil, fmt.Errorf("unknown truth %q", c.Truth)
}

func (e *Evaluator) answer(ctx context.Context, id string, c *lab.AnswerCheck, answers map[string]string) (Status, string, []string) {
	truths, err := e.truths(ctx, c)
	if err != nil {
		return Fail, e.msg().f("cannot answer yet: %v", "아직 답할 수 없습니다: %v", err), nil
	}
	got, ok := answers[id]
	if !ok {
		return Fail, e.msg().f("waiting for your answer: %s", "답을 기다리는 중: %s", c.Question.In(e.msg().lang)), nil
	}
	// A fact about the cluster is a name: its case does not matter.
	same := func(t string) bool {
		return t == got || lab.ClusterFacts[c.Truth] && strings.EqualFold(t, strings.TrimSpace(got))
	}
	if !slices.ContainsFunc(truths, same) {
		return Fail, e.msg().f("you answered %q; that is not what the cluster shows", "답 %q 은(는) 클러스터가 보여 주는 값과 다릅니다", got), nil
	}
	return Pass, e.msg().f("%q is right", "%q 정답입니다", got), nil
}
