package check

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kindlab/kindlab/internal/lab"
)

func (e *Evaluator) service(c *lab.ServiceCheck) (Status, string, []string) {
	s, err := e.Store.Service(c.Name)
	if err != nil {
		return Error, err.Error(), nil
	}
	if s == nil {
		return Fail, e.msg().f("Service %s does not exist yet", "서비스 %s 이(가) 아직 없습니다", c.Name), nil
	}
	ev := []string{serviceSummary(s)}
	fail := func(en, ko string, args ...any) (Status, string, []string) {
		return Fail, e.msg().f("Service %s: "+en, "서비스 %s: "+ko, append([]any{c.Name}, args...)...), ev
	}
	if c.Type != "" && string(s.Spec.Type) != c.Type {
		return fail("type is %s; want %s", "타입이 %s 입니다; %s 이어야 합니다", s.Spec.Type, c.Type)
	}
	var port *corev1.ServicePort
	if len(s.Spec.Ports) > 0 {
		port = &s.Spec.Ports[0]
	}
	if c.Port != 0 || c.TargetPort != 0 || c.PortName != "" || c.NodePort != 0 || c.AnyNodePort {
		if port == nil {
			return fail("has no ports", "포트가 없습니다")
		}
		if c.Port != 0 && port.Port != c.Port {
			return fail("port is %d; want %d", "포트가 %d 입니다; %d 이어야 합니다", port.Port, c.Port)
		}
		if c.TargetPort != 0 && port.TargetPort.IntValue() != int(c.TargetPort) {
			return fail("targetPort is %s; want %d", "targetPort 가 %s 입니다; %d 이어야 합니다", port.TargetPort.String(), c.TargetPort)
		}
		if c.PortName != "" && port.Name != c.PortName {
			return fail("port name is %q; want %q", "포트 이름이 %q 입니다; %q 이어야 합니다", port.Name, c.PortName)
		}
		if c.NodePort != 0 && port.NodePort != c.NodePort {
			return fail("nodePort is %d; want %d", "nodePort 가 %d 입니다; %d 이어야 합니다", port.NodePort, c.NodePort)
		}
		if c.AnyNodePort && port.NodePort == 0 {
			return fail("no nodePort is allocated", "nodePort 가 할당되지 않았습니다")
		}
	}
	if c.SessionAffinity != "" && string(s.Spec.SessionAffinity) != c.SessionAffinity {
		return fail("sessionAffinity is %s; want %s", "sessionAffinity 가 %s 입니다; %s 이어야 합니다", s.Spec.SessionAffinity, c.SessionAffinity)
	}
	if c.ExternalTrafficPolicy != "" && string(s.Spec.ExternalTrafficPolicy) != c.ExternalTrafficPolicy {
		return fail("externalTrafficPolicy is %s; want %s", "externalTrafficPolicy 가 %s 입니다; %s 이어야 합니다", valueOrNone(string(s.Spec.ExternalTrafficPolicy)), c.ExternalTrafficPolicy)
	}
	if c.HealthCheckNodePort && s.Spec.HealthCheckNodePort == 0 {
		return fail("no healthCheckNodePort is allocated", "healthCheckNodePort 가 할당되지 않았습니다")
	}
	if c.ExternalName != "" && s.Spec.ExternalName != c.ExternalName {
		return fail("externalName is %q; want %q", "externalName 이 %q 입니다; %q 이어야 합니다", s.Spec.ExternalName, c.ExternalName)
	}
	if c.NoClusterIP && s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone {
		return fail("has cluster IP %s; want none", "클러스터 IP %s 이(가) 있습니다; 없어야 합니다", s.Spec.ClusterIP)
	}
	if c.Selector != "" {
		want, _ := labels.Parse(c.Selector)
		if got := labels.SelectorFromSet(s.Spec.Selector); got.String() != want.String() {
			return fail("selects %s; want %s", "셀렉터가 %s 입니다; %s 이어야 합니다", valueOrNone(got.String()), c.Selector)
		}
	}
	for k, v := range c.Annotations {
		if s.Annotations[k] != v {
			return fail("annotation %s is %v; want %s", "어노테이션 %s 이(가) %v 입니다; %s 이어야 합니다", k, valueOrNone(s.Annotations[k]), v)
		}
	}
	if (c.LoadBalancerAddress || c.AnnouncedWherePods) && lbAddress(s) == "" {
		return fail("EXTERNAL-IP is <pending>: no load-balancer address yet", "EXTERNAL-IP 가 <pending> 입니다: 로드 밸런서 주소가 아직 없습니다")
	}
	if c.AnnouncedWherePods {
		node, podNodes := e.announcer(s), e.endpointNodes(s.Name)
		ev = append(ev, fmt.Sprintf("announced from %s; Ready pods on %s", valueOrNone(node), valueOrNone(strings.Join(podNodes, ","))))
		switch {
		case node == "":
			return fail("no node announces %s yet (no nodeAssigned event from the load balancer)", "아직 어떤 노드도 %s 을(를) 알리지 않습니다 (로드 밸런서의 nodeAssigned 이벤트 없음)", lbAddress(s))
		case !slices.Contains(podNodes, node):
			return fail("%s is announced from node %s, which runs no Ready pod of it (pods on %s)", "%s 은(는) 노드 %s 에서 알려지는데, 그 노드에는 Ready 포드가 없습니다 (포드가 있는 노드: %s)", lbAddress(s), node, valueOrNone(strings.Join(podNodes, ", ")))
		}
	}
	return Pass, e.msg().f("Service %s: %s", "서비스 %s: %s", c.Name, ev[0]), nil
}

func lbAddress(s *corev1.Service) string {
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			return in.IP
		}
		if in.Hostname != "" {
			return in.Hostname
		}
	}
	return ""
}

func serviceSummary(s *corev1.Service) string {
	out := fmt.Sprintf("type=%s clusterIP=%s", s.Spec.Type, valueOrNone(s.Spec.ClusterIP))
	for _, p := range s.Spec.Ports {
		out += fmt.Sprintf(" port=%s:%d->%s", p.Name, p.Port, p.TargetPort.String())
		if p.NodePort != 0 {
			out += fmt.Sprintf(" nodePort=%d", p.NodePort)
		}
	}
	if a := lbAddress(s); a != "" {
		out += " external=" + a
	}
	return out
}

func (e *Evaluator) endpoints(c *lab.EndpointsCheck) (Status, string, []string) {
	ready := map[string]bool{}
	var ev []string
	for _, es := range e.Store.EndpointSlices(c.Service) {
		portOK := c.Port == 0
		for _, p := range es.Ports {
			if p.Port != nil && *p.Port == c.Port {
				portOK = true
			}
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			for _, a := range ep.Addresses {
				if portOK {
					ready[a] = true
				}
				ev = append(ev, a)
			}
		}
	}
	if len(ready) != c.Count {
		return Fail, e.msg().f("Service %s has %d ready endpoints; want %d", "서비스 %s 의 준비된 엔드포인트: %d 개; %d 개여야 합니다", c.Service, len(ready), c.Count), limit(ev)
	}
	return Pass, e.msg().f("Service %s has %d ready endpoints", "서비스 %s 의 준비된 엔드포인트: %d 개", c.Service, len(ready)), limit(ev)
}

// announcedRE reads the node from MetalLB's layer-2 event "announcing from node
// "NAME" with protocol "layer2"".
var announcedRE = regexp.MustCompile(`announcing from node "([^"]+)"`)

// announcer is the node the load balancer last said it announces s's address
// from ("" when none said so).
func (e *Evaluator) announcer(s *corev1.Service) string {
	var last *corev1.Event
	for _, ev := range e.Store.Events("Service", s.Name) {
		if ev.InvolvedObject.UID == s.UID && ev.Reason == "nodeAssigned" && announcedRE.MatchString(ev.Message) &&
			(last == nil || eventTime(ev).After(eventTime(last))) {
			last = ev
		}
	}
	if last == nil {
		return ""
	}
	return announcedRE.FindStringSubmatch(last.Message)[1]
}

// endpointNodes are the nodes of the Service's Ready endpoints, sorted.
func (e *Evaluator) endpointNodes(service string) []string {
	var out []string
	for _, es := range e.Store.EndpointSlices(service) {
		for _, ep := range es.Endpoints {
			if ep.NodeName == nil || ep.Conditions.Ready != nil && !*ep.Conditions.Ready || slices.Contains(out, *ep.NodeName) {
				continue
			}
			out = append(out, *ep.NodeName)
		}
	}
	slices.Sort(out)
	return out
}
