package check

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kindlab/kindlab/internal/lab"
)

// spread checks that a pods check's pods run on enough nodes (PodsCheck.Spread),
// after its count passed with message counted.
func (e *Evaluator) spread(ctx context.Context, c *lab.PodsCheck, counted string) (Status, string, []string) {
	nodes, err := e.Cluster.ClusterNodes(ctx)
	if err != nil {
		return Error, e.msg().f("cannot read the nodes: %v", "노드를 읽을 수 없습니다: %v", err), nil
	}
	schedulable := 0
	for _, n := range nodes {
		if n.Schedulable {
			schedulable++
		}
	}
	want := min(c.Spread, max(schedulable, 1))
	sel := labels.Everything()
	if c.Selector != "" {
		if s, err := labels.Parse(c.Selector); err == nil {
			sel = s
		}
	}
	on := map[string][]string{} // node → pods
	for _, p := range e.Store.Pods(sel) {
		if (c.Name == "" || p.Name == c.Name) && (!c.Ready || podReady(p)) && p.Spec.NodeName != "" {
			on[p.Spec.NodeName] = append(on[p.Spec.NodeName], p.Name)
		}
	}
	var where []string
	for n, ps := range on {
		sort.Strings(ps)
		where = append(where, n+": "+strings.Join(ps, ", "))
	}
	sort.Strings(where)
	if len(on) < want {
		return Fail, e.msg().f("%s, but on %d node(s); want them spread over %d (kubectl get pods -o wide, NODE)",
			"%s 이지만 노드 %d 개에만 있습니다; 노드 %d 개에 나뉘어 있어야 합니다 (kubectl get pods -o wide 의 NODE)", counted, len(on), want), where
	}
	return Pass, e.msg().f("%s, on %d node(s)", "%s, 노드 %d 개에 나뉘어 있음", counted, len(on)), where
}

// everyNode requests a Service's NodePort on every node's address. With
// onlyWherePods, the nodes running a Ready pod of the Service must answer and the
// others must not: externalTrafficPolicy Local.
func (e *Evaluator) everyNode(ctx context.Context, c *lab.HostHTTPCheck, s *corev1.Service) (Status, string, []string) {
	if len(s.Spec.Ports) == 0 || s.Spec.Ports[0].NodePort == 0 {
		return Fail, e.msg().f("Service %s has no nodePort", "서비스 %s 에 nodePort 가 없습니다", c.Service), nil
	}
	nodes, err := e.Cluster.ClusterNodes(ctx)
	if err != nil {
		return Error, e.msg().f("cannot read the nodes: %v", "노드를 읽을 수 없습니다: %v", err), nil
	}
	withPod := map[string]bool{}
	if c.OnlyWherePods {
		sel := labels.SelectorFromSet(s.Spec.Selector)
		for _, p := range e.Store.Pods(sel) {
			if len(s.Spec.Selector) > 0 && podReady(p) {
				withPod[p.Spec.NodeName] = true
			}
		}
		if len(withPod) == 0 {
			return Fail, e.msg().f("no Ready pod of Service %s runs on any node", "서비스 %s 의 Ready 포드가 어느 노드에도 없습니다", c.Service), nil
		}
	}
	// A node that must stay silent drops the request: each waits for its time-out,
	// so all nodes are asked at once.
	type reply struct {
		url, body string
		err       error
	}
	replies := make([]reply, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := fmt.Sprintf("http://%s:%d%s", n.Address, s.Spec.Ports[0].NodePort, c.Path)
			body, err := e.Cluster.HostGet(ctx, url)
			replies[i] = reply{url, body, err}
		}()
	}
	wg.Wait()
	var evidence, wrong []string
	for i, n := range nodes {
		url, body, err := replies[i].url, replies[i].body, replies[i].err
		answers := err == nil && (c.Contains == "" || strings.Contains(body, c.Contains))
		want := !c.OnlyWherePods || withPod[n.Name]
		switch {
		case answers && want:
			evidence = append(evidence, e.msg().f("%s (%s) answers", "%s (%s) 응답함", n.Name, url))
		case !answers && !want:
			evidence = append(evidence, e.msg().f("%s (%s) runs no pod of it and does not answer", "%s (%s) 에는 포드가 없고 응답하지 않음", n.Name, url))
		case answers:
			wrong = append(wrong, e.msg().f("%s (%s) runs no pod of %s but answers", "%s (%s) 에는 %s 의 포드가 없는데 응답함", n.Name, url, c.Service))
		default:
			why := ""
			if err != nil {
				why = ": " + err.Error()
			}
			wrong = append(wrong, e.msg().f("%s (%s) does not answer%s", "%s (%s) 이(가) 응답하지 않음%s", n.Name, url, why))
		}
	}
	if len(wrong) > 0 {
		return Fail, wrong[0], append(wrong[1:], evidence...)
	}
	if c.OnlyWherePods {
		return Pass, e.msg().f("NodePort %d answers only on the node(s) that run a pod of %s (%d of %d)", "NodePort %d 이(가) %s 의 포드가 있는 노드에서만 응답합니다 (%d / %d)",
			s.Spec.Ports[0].NodePort, c.Service, len(withPod), len(nodes)), evidence
	}
	return Pass, e.msg().f("NodePort %d answers on every node's address (%d)", "NodePort %d 이(가) 모든 노드의 주소에서 응답합니다 (%d 개)", s.Spec.Ports[0].NodePort, len(nodes)), evidence
}
