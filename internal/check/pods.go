package check

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kindlab/kindlab/internal/lab"
)

func (e *Evaluator) pods(c *lab.PodsCheck) (Status, string, []string) {
	st, msg, ev, candidates := e.countPods(c)
	return e.withPullProblem(candidates, st, msg, ev)
}

// countPods evaluates a pods check; candidates are the pods it looked at, whose
// pull problems a failure reports.
func (e *Evaluator) countPods(c *lab.PodsCheck) (st Status, message string, evidence []string, candidates []*corev1.Pod) {
	sel := labels.Everything()
	desc := e.msg().f("pods", "포드")
	if c.Selector != "" {
		s, err := labels.Parse(c.Selector)
		if err != nil {
			return Error, err.Error(), nil, nil
		}
		sel = s
		desc = e.msg().f("selector %s", "셀렉터 %s", c.Selector)
	}
	all := e.Store.Pods(labels.Everything())
	pods := e.Store.Pods(sel)
	if c.Name != "" {
		var one []*corev1.Pod
		for _, p := range pods {
			if p.Name == c.Name {
				one = append(one, p)
			}
		}
		pods = one
		desc = e.msg().f("pod %s", "포드 %s", c.Name)
	}
	var counted []*corev1.Pod
	var problems []string
	for _, p := range pods {
		owner := metav1.GetControllerOf(p)
		switch {
		case c.Owner != "" && !ownerMatches(owner, c.Owner):
			problems = append(problems, e.msg().f("%s is owned by %s, want %s", "%s 의 소유자는 %s 입니다; %s 이어야 합니다", p.Name, ownerString(owner), c.Owner))
			continue
		case c.Orphaned && owner != nil:
			problems = append(problems, e.msg().f("%s is owned by %s, want no owner", "%s 의 소유자는 %s 입니다; 소유자가 없어야 합니다", p.Name, ownerString(owner)))
			continue
		case c.Image != "" && !runsImage(p, c.Image):
			problems = append(problems, e.msg().f("%s runs %s, want %s", "%s 은(는) %s 을(를) 실행합니다; %s 이어야 합니다", p.Name, podImages(p), c.Image))
			continue
		case c.Ready && !podReady(p):
			problems = append(problems, e.msg().f("%s is not Ready (%s)", "%s 이(가) Ready 가 아닙니다 (%s)", p.Name, podProblem(p)))
			continue
		}
		counted = append(counted, p)
	}
	what := e.msg().f("pods", "포드")
	if c.Ready {
		what = e.msg().f("Ready pods", "Ready 포드")
	}
	if c.Owner != "" {
		what += e.msg().f(" owned by %s", " (소유자 %s)", c.Owner)
	}
	if c.Orphaned {
		what += e.msg().f(" without an owner", " (소유자 없음)")
	}
	if c.Count != nil && len(counted) != *c.Count {
		return Fail, e.msg().f("%s matches %d %s; want %d", "%[1]s 에 맞는 %[3]s: %[2]d 개; %[4]d 개여야 합니다", desc, len(counted), what, *c.Count), limit(problems), pods
	}
	if c.Count == nil && c.TotalCount == nil && len(counted) == 0 {
		return Fail, e.msg().f("%s matches no %s yet", "%s 에 맞는 %s 이(가) 아직 없습니다", desc, what), limit(problems), pods
	}
	if c.Count == nil && len(problems) > 0 {
		return Fail, e.msg().f("%s: %s", "%s: %s", desc, problems[0]), limit(problems), pods
	}
	if c.TotalCount != nil && len(all) != *c.TotalCount {
		return Fail, e.msg().f("%d pods exist in namespace %s; want %d", "네임스페이스 %[2]s 에 포드가 %[1]d 개 있습니다; %[3]d 개여야 합니다", len(all), e.Store.Namespace(), *c.TotalCount), names(all), pods
	}
	if c.Count != nil {
		return Pass, e.msg().f("%s matches %d %s", "%[1]s 에 맞는 %[3]s: %[2]d 개", desc, len(counted), what), nil, pods
	}
	return Pass, e.msg().f("%s: %d %s", "%[1]s: %[3]s %[2]d 개", desc, len(counted), what), nil, pods
}

func ownerMatches(o *metav1.OwnerReference, want string) bool {
	if o == nil {
		return false
	}
	kind, name, hasName := strings.Cut(want, "/")
	return o.Kind == kind && (!hasName || o.Name == name)
}

func ownerString(o *metav1.OwnerReference) string {
	if o == nil {
		return "<none>"
	}
	return o.Kind + "/" + o.Name
}

func runsImage(p *corev1.Pod, img string) bool {
	for _, c := range p.Spec.Containers {
		if c.Image == img {
			return true
		}
	}
	return false
}

func podImages(p *corev1.Pod) string {
	var out []string
	for _, c := range p.Spec.Containers {
		out = append(out, c.Image)
	}
	return strings.Join(out, ",")
}

func names(ps []*corev1.Pod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return limit(out)
}
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podProblem(p *corev1.Pod) string {
	for _, s := range p.Status.ContainerStatuses {
		if w := s.State.Waiting; w != nil && w.Reason != "" {
			return s.Name + ": " + w.Reason
		}
	}
	return string(p.Status.Phase)
}
