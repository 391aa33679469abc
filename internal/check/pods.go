package check

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kindlab/kindlab/internal/lab"
)

func (e *Evaluator) pods(c *lab.PodsCheck) (Status, string, []string) {
	st, msg, ev, candidates := e.countPods(c)
	if !c.Ready {
		// Pods that wait for their image still count here: no pull made it fail.
		return st, msg, ev
	}
	return e.withPullProblem(candidates, st, msg, ev)
}

// countPods evaluates a pods check; candidates are the pods it looked at, whose
// pull problems a failure reports.
func (e *Evaluator) countPods(c *lab.PodsCheck) (st Status, message string, evidence []string, candidates []*corev1.Pod) {
	sel := labels.Everything()
	if c.Selector != "" {
		s, err := labels.Parse(c.Selector)
		if err != nil {
			return Error, err.Error(), nil, nil
		}
		sel = s
	}
	if c.TotalCount != nil && c.CreatedBy == "" {
		return Error, "totalCount needs createdBy", nil, nil
	}
	scope := e.Store.Pods(labels.Everything())
	if c.CreatedBy != "" {
		var err error
		if scope, err = e.madeBy(scope, c.CreatedBy); err != nil {
			return Error, err.Error(), nil, nil
		}
	}
	var pods []*corev1.Pod
	for _, p := range scope {
		if sel.Matches(labels.Set(p.Labels)) && (c.Name == "" || p.Name == c.Name) {
			pods = append(pods, p)
		}
	}
	d := e.describePods(c)
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
		if c.Ready {
			// Read the pod's events once: a Ready pod whose probe failed lately does not count.
			if f := e.flapping(p); f != "" {
				problems = append(problems, f)
				continue
			}
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
		return Fail, e.msg().f("%s %s %d %s; want %d", "%[1]s%[2]s%[4]s: %[3]d 개; %[5]d 개여야 합니다", d.desc, d.verb, len(counted), what, *c.Count), limit(problems), pods
	}
	if c.Count == nil && c.TotalCount == nil && len(counted) == 0 {
		return Fail, e.msg().f("%s %s no %s yet", "%s%s%s 이(가) 아직 없습니다", d.desc, d.verb, what), limit(problems), pods
	}
	if c.Count == nil && len(problems) > 0 {
		return Fail, e.msg().f("%s: %s", "%s: %s", d.desc, problems[0]), limit(problems), pods
	}
	total := ""
	if c.TotalCount != nil {
		if len(scope) != *c.TotalCount {
			return Fail, e.msg().f("%s has made %d pods that still exist; want %d", "%s 이(가) 만든 포드 중 남아 있는 포드: %d 개; %d 개여야 합니다", c.CreatedBy, len(scope), *c.TotalCount), podLines(scope), pods
		}
		total = e.msg().f("; %d made by %s in all", "; %[2]s 이(가) 만든 포드는 모두 %[1]d 개", len(scope), c.CreatedBy)
	}
	if c.Count != nil {
		return Pass, e.msg().f("%s %s %d %s", "%[1]s%[2]s%[4]s: %[3]d 개", d.desc, d.verb, len(counted), what) + total, nil, pods
	}
	return Pass, e.msg().f("%s: %d %s", "%[1]s: %[3]s %[2]d 개", d.desc, len(counted), what) + total, nil, pods
}

// podsDesc names the pods a check looks at, in the learner's language: desc,
// then verb before the count ("selector app=x" "matches"; in Korean the particle
// that joins desc to what is counted).
type podsDesc struct{ desc, verb string }

func (e *Evaluator) describePods(c *lab.PodsCheck) podsDesc {
	var d podsDesc
	switch {
	case c.Name != "":
		d.desc = e.msg().f("pod %s", "포드 %s", c.Name)
	case c.Selector != "":
		d.desc = e.msg().f("selector %s", "셀렉터 %s", c.Selector)
	}
	switch {
	case c.CreatedBy == "":
		d.verb = e.msg().f("matches", " 에 맞는 ")
	case d.desc == "":
		d.desc = e.msg().f("the pods %s made", "%s 이(가) 만든 포드", c.CreatedBy)
		d.verb = e.msg().f("include", " 중 ")
	default:
		d.desc = e.msg().f("%[2]s among the pods %[1]s made", "%[1]s 이(가) 만든 포드 중 %[2]s", c.CreatedBy, d.desc)
		d.verb = e.msg().f("matches", " 에 맞는 ")
	}
	if d.desc == "" {
		d.desc = e.msg().f("pods", "포드")
	}
	return d
}

// madeBy keeps the pods that the ReplicaSet ref ("ReplicaSet/NAME") made. A
// ReplicaSet names its pods through generateName "NAME-", which a pod keeps when it
// loses the label and the owner; so a debug pod, a pod the learner made and other
// labs' pods never count. While the ReplicaSet exists, pods older than it were made
// by an earlier ReplicaSet of that name (a lab done again) and do not count either.
func (e *Evaluator) madeBy(pods []*corev1.Pod, ref string) ([]*corev1.Pod, error) {
	_, name, _ := strings.Cut(ref, "/")
	rs, err := e.Store.ReplicaSet(name)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, p := range pods {
		if p.GenerateName != name+"-" || rs != nil && p.CreationTimestamp.Before(&rs.CreationTimestamp) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// podLines describe pods by name, labels and owner, sorted by name.
func podLines(ps []*corev1.Pod) []string {
	var out []string
	for _, p := range ps {
		l := labels.Set(p.Labels).String()
		if l == "" {
			l = "<no labels>"
		}
		out = append(out, fmt.Sprintf("%s %s owner=%s", p.Name, l, ownerString(metav1.GetControllerOf(p))))
	}
	sort.Strings(out)
	return limit(out)
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

// flapWindow is the least time a pod's readiness probe must not have failed for
// the pod to count as Ready: a probe that flips every few seconds (Ready for 3,
// not for 3) outlasts any settle time a learner would wait for, not this.
const flapWindow = 30 * time.Second

// flapping says that pod p, Ready now, failed its readiness probe within
// flapWindow, or twice the probe's own failure window (periodSeconds ×
// failureThreshold) if longer: a readiness that comes and goes is not counted
// as Ready until it stops failing. "" when it did not (or has no readiness
// probe). The kubelet's event is what shows a failure between two looks.
func (e *Evaluator) flapping(p *corev1.Pod) string {
	var window time.Duration
	for _, c := range p.Spec.Containers {
		if pr := c.ReadinessProbe; pr != nil {
			period, threshold := pr.PeriodSeconds, pr.FailureThreshold
			if period <= 0 {
				period = 10
			}
			if threshold <= 0 {
				threshold = 3
			}
			window = max(window, flapWindow, 2*time.Duration(period*threshold)*time.Second)
		}
	}
	if window == 0 {
		return ""
	}
	var last *corev1.Event
	for _, ev := range e.Store.Events("Pod", p.Name) {
		if ev.InvolvedObject.UID == p.UID && ev.Reason == "Unhealthy" && strings.HasPrefix(ev.Message, "Readiness probe failed") &&
			(last == nil || eventTime(ev).After(eventTime(last))) {
			last = ev
		}
	}
	if last == nil {
		return ""
	}
	ago := e.now().Sub(eventTime(last))
	if ago >= window {
		return ""
	}
	return e.msg().f("%s is Ready, but its readiness probe failed %s ago (%s); it counts once the probe has not failed for %s",
		"%s 이(가) Ready 이지만 %s 전에 readiness probe 가 실패했습니다 (%s); %s 동안 실패하지 않아야 인정됩니다",
		p.Name, ago.Round(time.Second), short(last.Message), window)
}
