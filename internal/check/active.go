package check

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kindlab/kindlab/internal/lab"
)

var placeholderRE = regexp.MustCompile(`\{(pod|svc):([a-z0-9.-]+)\}`)

// expandURL fills {pod:NAME} with the pod's IP and {svc:NAME} with the Service's
// cluster IP.
func (e *Evaluator) expandURL(u string) (string, error) {
	var err error
	out := placeholderRE.ReplaceAllStringFunc(u, func(m string) string {
		g := placeholderRE.FindStringSubmatch(m)
		switch g[1] {
		case "pod":
			p, perr := e.Store.Pod(g[2])
			if perr != nil || p == nil || p.Status.PodIP == "" {
				err = errors.New(e.msg().f("pod %s has no IP yet", "포드 %s 에 아직 IP 가 없습니다", g[2]))
				return m
			}
			return p.Status.PodIP
		default:
			s, serr := e.Store.Service(g[2])
			if serr != nil || s == nil || s.Spec.ClusterIP == "" {
				err = errors.New(e.msg().f("Service %s has no cluster IP yet", "서비스 %s 에 아직 클러스터 IP 가 없습니다", g[2]))
				return m
			}
			return s.Spec.ClusterIP
		}
	})
	return out, err
}

// replySep separates the replies of repeated requests in the helper pod's output.
const replySep = "<<<kindlab-reply>>>"

var helloRE = regexp.MustCompile(`Hello, ([A-Za-z0-9.-]+)`)

func (e *Evaluator) http(ctx context.Context, c *lab.HTTPCheck) (Status, string, []string) {
	url, err := e.expandURL(c.URL)
	if err != nil {
		return Fail, err.Error(), nil
	}
	n := c.Requests
	if n <= 0 {
		n = 1
	}
	// The URL is an argument, never part of the script: a lab cannot inject commands.
	script := `i=0; while [ "$i" -lt "$1" ]; do curl -sS --globoff --proto =http,https --max-time 2 "$2" 2>&1; echo "` + replySep + `"; i=$((i+1)); done`
	out, err := e.Cluster.Probe(ctx, "sh", "-c", script, "sh", fmt.Sprint(n), url)
	if err != nil {
		return Error, e.msg().f("cannot run a request in the cluster: %v", "클러스터 안에서 요청을 보낼 수 없습니다: %v", err), nil
	}
	replies := strings.Split(out, replySep)
	replies = replies[:len(replies)-1]
	hosts := map[string]int{}
	var failed []string
	for _, r := range replies {
		r = strings.TrimSpace(r)
		if strings.HasPrefix(r, "curl:") {
			failed = append(failed, r)
			continue
		}
		if c.Contains != "" && !strings.Contains(r, c.Contains) {
			failed = append(failed, e.msg().f("reply lacks %q: %s", "응답에 %q 이(가) 없습니다: %s", c.Contains, short(r)))
			continue
		}
		if m := helloRE.FindStringSubmatch(r); m != nil {
			hosts[m[1]]++
		}
	}
	ev := limit(failed)
	for h, k := range hosts {
		ev = append(ev, fmt.Sprintf("%s: %d", h, k))
	}
	if len(failed) > 0 {
		return Fail, e.msg().f("%d of %d requests to %s failed", "%[3]s 로 보낸 요청 %[2]d 개 중 %[1]d 개 실패", len(failed), len(replies), url), ev
	}
	if c.DistinctAtLeast > 0 && len(hosts) < c.DistinctAtLeast {
		return Fail, e.msg().f("%d requests to %s reached %d pod(s); want at least %d", "%[2]s 로 보낸 요청 %[1]d 개가 포드 %[3]d 개에 도달했습니다; 최소 %[4]d 개여야 합니다", len(replies), url, len(hosts), c.DistinctAtLeast), ev
	}
	if c.SamePod && len(hosts) != 1 {
		return Fail, e.msg().f("%d requests to %s reached %d pods; want all at one pod", "%[2]s 로 보낸 요청 %[1]d 개가 포드 %[3]d 개에 도달했습니다; 모두 한 포드여야 합니다", len(replies), url, len(hosts)), ev
	}
	if len(hosts) > 0 {
		return Pass, e.msg().f("%d requests to %s answered by %d pod(s)", "%[2]s 로 보낸 요청 %[1]d 개를 포드 %[3]d 개가 응답했습니다", len(replies), url, len(hosts)), ev
	}
	return Pass, e.msg().f("%s answered", "%s 가 응답했습니다", url), ev
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

func (e *Evaluator) hostHTTP(ctx context.Context, c *lab.HostHTTPCheck) (Status, string, []string) {
	s, err := e.Store.Service(c.Service)
	if err != nil {
		return Error, err.Error(), nil
	}
	if s == nil {
		return Fail, e.msg().f("Service %s does not exist yet", "서비스 %s 이(가) 아직 없습니다", c.Service), nil
	}
	var url string
	switch c.Via {
	case "everyNode":
		return e.everyNode(ctx, c, s)
	case "nodePort":
		if len(s.Spec.Ports) == 0 || s.Spec.Ports[0].NodePort == 0 {
			return Fail, e.msg().f("Service %s has no nodePort", "서비스 %s 에 nodePort 가 없습니다", c.Service), nil
		}
		addr, err := e.Cluster.NodeAddress(ctx)
		if err != nil {
			return Error, err.Error(), nil
		}
		url = fmt.Sprintf("http://%s:%d", addr, s.Spec.Ports[0].NodePort)
	case "hostPort":
		if len(s.Spec.Ports) == 0 || s.Spec.Ports[0].NodePort != hostNodePort {
			return Fail, e.msg().f("Service %s does not use nodePort 31000 (the one mapped to 127.0.0.1)", "서비스 %s 이(가) nodePort 31000 (127.0.0.1 에 연결된 포트)을 쓰지 않습니다", c.Service), []string{serviceSummary(s)}
		}
		url = fmt.Sprintf("http://127.0.0.1:%d", e.Cluster.HostPort())
		if e.Cluster.HostPort() == 0 {
			// A cluster made with --host-port 0 (several on one machine) maps nothing:
			// the node's own address serves the same NodePort.
			addr, err := e.Cluster.NodeAddress(ctx)
			if err != nil {
				return Error, err.Error(), nil
			}
			url = fmt.Sprintf("http://%s:%d", addr, hostNodePort)
		}
	case "loadBalancer":
		addr := lbAddress(s)
		if addr == "" {
			return Fail, e.msg().f("Service %s has no load-balancer address yet (EXTERNAL-IP <pending>)", "서비스 %s 에 아직 로드 밸런서 주소가 없습니다 (EXTERNAL-IP <pending>)", c.Service), nil
		}
		port := int32(80)
		if len(s.Spec.Ports) > 0 {
			port = s.Spec.Ports[0].Port
		}
		url = fmt.Sprintf("http://%s:%d", addr, port)
	}
	url += c.Path
	body, err := e.Cluster.HostGet(ctx, url)
	if err != nil {
		return Fail, e.msg().f("%s does not answer from this machine: %v", "이 컴퓨터에서 %s 이(가) 응답하지 않습니다: %v", url, err), nil
	}
	if c.Contains != "" && !strings.Contains(body, c.Contains) {
		return Fail, e.msg().f("%s answered without %q", "%s 의 응답에 %q 이(가) 없습니다", url, c.Contains), []string{short(body)}
	}
	return Pass, e.msg().f("%s answers from this machine", "이 컴퓨터에서 %s 이(가) 응답합니다", url), []string{short(body)}
}

func (e *Evaluator) dns(ctx context.Context, c *lab.DNSCheck) (Status, string, []string) {
	typ := "A"
	if c.CNAME != "" {
		typ = "CNAME"
	}
	name := lab.Namespaced(c.Name, e.Store.Namespace())
	out, err := e.Cluster.Probe(ctx, "dig", "+short", "+time=2", "+tries=1", "-t", typ, name)
	if err != nil {
		return Error, e.msg().f("cannot query DNS in the cluster: %v", "클러스터 안에서 DNS 를 조회할 수 없습니다: %v", err), nil
	}
	got := strings.Fields(out)
	if c.CNAME != "" {
		for _, g := range got {
			if strings.TrimSuffix(g, ".") == strings.TrimSuffix(c.CNAME, ".") {
				return Pass, e.msg().f("%s is a CNAME for %s", "%s 은(는) %s 의 CNAME 입니다", name, c.CNAME), got
			}
		}
		return Fail, e.msg().f("%s has CNAME %v; want %s", "%s 의 CNAME: %v; %s 이어야 합니다", name, got, c.CNAME), got
	}
	if len(got) == 0 {
		return Fail, e.msg().f("%s does not resolve", "%s 이(가) 조회되지 않습니다", name), nil
	}
	return Pass, e.msg().f("%s resolves to %s", "%s → %s", name, strings.Join(got, ", ")), got
}

func (e *Evaluator) exec(ctx context.Context, c *lab.ExecCheck) (Status, string, []string) {
	p, err := e.Store.Pod(c.Pod)
	if err != nil {
		return Error, err.Error(), nil
	}
	if p == nil {
		return Fail, e.msg().f("pod %s does not exist yet", "포드 %s 이(가) 아직 없습니다", c.Pod), nil
	}
	if !podReady(p) {
		return e.withPullProblem([]*corev1.Pod{p}, Fail, e.msg().f("pod %s is not running yet", "포드 %s 이(가) 아직 실행 중이 아닙니다", c.Pod), nil)
	}
	out, err := e.Cluster.Exec(ctx, c.Pod, c.Container, c.Command...)
	cmd := strings.Join(c.Command, " ")
	if err != nil {
		return Fail, e.msg().f("`%s` in %s failed: %v", "%[2]s 에서 `%[1]s` 실패: %[3]v", cmd, where(c), err), nil
	}
	if !strings.Contains(out, c.Contains) {
		return Fail, e.msg().f("`%s` in %s printed no %q", "%[2]s 에서 `%[1]s` 의 출력에 %[3]q 이(가) 없습니다", cmd, where(c), c.Contains), []string{short(out)}
	}
	return Pass, e.msg().f("`%s` in %s printed %q", "%[2]s 에서 `%[1]s` 가 %[3]q 을(를) 출력했습니다", cmd, where(c), c.Contains), nil
}

func where(c *lab.ExecCheck) string {
	if c.Container != "" {
		return c.Pod + "/" + c.Container
	}
	return c.Pod
}
