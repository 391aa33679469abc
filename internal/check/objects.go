package check

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kindlab/kindlab/internal/lab"
)

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

func (e *Evaluator) exists(c *lab.ObjectCheck) (Status, string, []string) {
	o, err := e.Store.object(c.Kind, c.Name)
	if err != nil {
		return Error, err.Error(), nil
	}
	if o == nil {
		return Fail, e.msg().f("%s %s does not exist yet", "%s %s 이(가) 아직 없습니다", c.Kind, c.Name), nil
	}
	meta := o.(metav1.Object)
	if meta.GetDeletionTimestamp() != nil {
		return Fail, e.msg().f("%s %s is being deleted", "%s %s 이(가) 삭제되는 중입니다", c.Kind, c.Name), nil
	}
	if c.Applied && meta.GetAnnotations()[lastApplied] == "" {
		return Fail, e.msg().f("%s %s exists but was not created with kubectl apply (no last-applied-configuration annotation)",
			"%s %s 이(가) 있지만 kubectl apply 로 만들어지지 않았습니다 (last-applied-configuration 어노테이션 없음)", c.Kind, c.Name), nil
	}
	return Pass, e.msg().f("%s %s exists", "%s %s 이(가) 있습니다", c.Kind, c.Name), nil
}

func (e *Evaluator) absent(c *lab.ObjectCheck) (Status, string, []string) {
	o, err := e.Store.object(c.Kind, c.Name)
	if err != nil {
		return Error, err.Error(), nil
	}
	if o != nil {
		if o.(metav1.Object).GetDeletionTimestamp() != nil {
			return Fail, e.msg().f("%s %s is still terminating", "%s %s 이(가) 아직 종료 중입니다", c.Kind, c.Name), nil
		}
		return Fail, e.msg().f("%s %s still exists; want it deleted", "%s %s 이(가) 아직 있습니다; 삭제되어야 합니다", c.Kind, c.Name), nil
	}
	return Pass, e.msg().f("%s %s is gone", "%s %s 이(가) 삭제되었습니다", c.Kind, c.Name), nil
}

func (e *Evaluator) match(c *lab.MatchCheck) (Status, string, []string) {
	o, err := e.Store.object(c.Kind, c.Name)
	if err != nil {
		return Error, err.Error(), nil
	}
	if o == nil {
		return Fail, e.msg().f("%s %s does not exist yet", "%s %s 이(가) 아직 없습니다", c.Kind, c.Name), nil
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return Error, err.Error(), nil
	}
	if diff := subset(c.Fields, u, ""); diff != "" {
		return Fail, e.msg().f("%s %s: %s", "%s %s: %s", c.Kind, c.Name, diff), nil
	}
	return Pass, e.msg().f("%s %s has the expected fields", "%s %s 의 필드가 기대한 값과 같습니다", c.Kind, c.Name), nil
}

// subset reports the first place where want is not contained in got ("" if it is).
func subset(want any, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, found %v", orRoot(path), got)
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if d := subset(w[k], g[k], path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) < len(w) {
			return fmt.Sprintf("%s: want a list of at least %d, found %v", orRoot(path), len(w), got)
		}
		for i := range w {
			if d := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return fmt.Sprintf("%s is %v, want %v", orRoot(path), valueOrNone(got), want)
		}
		return ""
	}
}

func orRoot(p string) string {
	if p == "" {
		return "."
	}
	return strings.TrimPrefix(p, ".")
}

func valueOrNone(v any) any {
	if v == nil {
		return "<none>"
	}
	return v
}

func (e *Evaluator) pods(c *lab.PodsCheck) (Status, string, []string) {
	sel := labels.Everything()
	desc := e.msg().f("pods", "포드")
	if c.Selector != "" {
		s, err := labels.Parse(c.Selector)
		if err != nil {
			return Error, err.Error(), nil
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
			problems = append(problems, e.msg().f("%s runs %s, want %s", "%s 은(는) %s 을(를) 실행합니다; %s 이어야 합니다", p.Name, images(p), c.Image))
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
		return Fail, e.msg().f("%s matches %d %s; want %d", "%[1]s 에 맞는 %[3]s: %[2]d 개; %[4]d 개여야 합니다", desc, len(counted), what, *c.Count), limit(problems)
	}
	if c.Count == nil && c.TotalCount == nil && len(counted) == 0 {
		return Fail, e.msg().f("%s matches no %s yet", "%s 에 맞는 %s 이(가) 아직 없습니다", desc, what), limit(problems)
	}
	if c.Count == nil && len(problems) > 0 {
		return Fail, e.msg().f("%s: %s", "%s: %s", desc, problems[0]), limit(problems)
	}
	if c.TotalCount != nil && len(all) != *c.TotalCount {
		return Fail, e.msg().f("%d pods exist in namespace %s; want %d", "네임스페이스 %[2]s 에 포드가 %[1]d 개 있습니다; %[3]d 개여야 합니다", len(all), e.Store.Namespace(), *c.TotalCount), names(all)
	}
	if c.Count != nil {
		return Pass, e.msg().f("%s matches %d %s", "%[1]s 에 맞는 %[3]s: %[2]d 개", desc, len(counted), what), nil
	}
	return Pass, e.msg().f("%s: %d %s", "%[1]s: %[3]s %[2]d 개", desc, len(counted), what), nil
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

func images(p *corev1.Pod) string {
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

func limit(xs []string) []string {
	if len(xs) > 5 {
		return append(xs[:5:5], fmt.Sprintf("... and %d more", len(xs)-5))
	}
	return xs
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

const revisionAnnotation = "deployment.kubernetes.io/revision"

func (e *Evaluator) deployment(c *lab.DeploymentCheck) (Status, string, []string) {
	d, err := e.Store.Deployment(c.Name)
	if err != nil {
		return Error, err.Error(), nil
	}
	if d == nil {
		return Fail, e.msg().f("Deployment %s does not exist yet", "디플로이먼트 %s 이(가) 아직 없습니다", c.Name), nil
	}
	ev := []string{fmt.Sprintf("revision=%s image=%s ready=%d/%d updated=%d", d.Annotations[revisionAnnotation], templateImages(d.Spec.Template), d.Status.ReadyReplicas, replicas(d.Spec.Replicas), d.Status.UpdatedReplicas)}
	if c.Revision != "" && d.Annotations[revisionAnnotation] != c.Revision {
		return Fail, e.msg().f("Deployment %s is at revision %s; want %s", "디플로이먼트 %s 의 리비전은 %s 입니다; %s 이어야 합니다", c.Name, valueOrNone(d.Annotations[revisionAnnotation]), c.Revision), ev
	}
	if c.Container != "" {
		got := containerImage(d.Spec.Template, c.Container)
		if got != c.Image {
			return Fail, e.msg().f("container %s of Deployment %s runs %s; want %s", "디플로이먼트 %[2]s 의 컨테이너 %[1]s 이미지는 %[3]s 입니다; %[4]s 이어야 합니다", c.Container, c.Name, valueOrNone(got), c.Image), ev
		}
	}
	if c.ChangeCause != "" && !strings.Contains(d.Annotations["kubernetes.io/change-cause"], c.ChangeCause) {
		return Fail, e.msg().f("Deployment %s has change-cause %q; want it to mention %q (use --record)", "디플로이먼트 %s 의 change-cause 는 %q 입니다; %q 이(가) 들어 있어야 합니다 (--record 사용)", c.Name, d.Annotations["kubernetes.io/change-cause"], c.ChangeCause), ev
	}
	if c.ReadyReplicas != nil {
		if d.Status.ReadyReplicas != *c.ReadyReplicas || d.Status.UpdatedReplicas != *c.ReadyReplicas || d.Status.Replicas != *c.ReadyReplicas {
			return Fail, e.msg().f("Deployment %s has %d Ready of %d pods (%d updated); want %d, all updated", "디플로이먼트 %s: Ready %d / 전체 %d (업데이트 %d); %d 개 모두 업데이트·Ready 여야 합니다", c.Name, d.Status.ReadyReplicas, d.Status.Replicas, d.Status.UpdatedReplicas, *c.ReadyReplicas), ev
		}
	}
	return Pass, e.msg().f("Deployment %s: %s", "디플로이먼트 %s: %s", c.Name, ev[0]), nil
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func containerImage(t corev1.PodTemplateSpec, name string) string {
	for _, c := range t.Spec.Containers {
		if c.Name == name {
			return c.Image
		}
	}
	return ""
}

func templateImages(t corev1.PodTemplateSpec) string {
	var out []string
	for _, c := range t.Spec.Containers {
		out = append(out, c.Image)
	}
	return strings.Join(out, ",")
}

func (e *Evaluator) replicaSet(c *lab.ReplicaSetCheck) (Status, string, []string) {
	var rs *appsv1.ReplicaSet
	what := "ReplicaSet " + c.Name
	if c.Name != "" {
		r, err := e.Store.ReplicaSet(c.Name)
		if err != nil {
			return Error, err.Error(), nil
		}
		rs = r
	} else {
		what = e.msg().f("the ReplicaSet of Deployment %s running %s", "디플로이먼트 %s 의 %s 레플리카셋", c.Deployment, c.Image)
		for _, r := range e.Store.ReplicaSets() {
			if o := metav1.GetControllerOf(r); o != nil && o.Kind == "Deployment" && o.Name == c.Deployment && strings.Contains(","+templateImages(r.Spec.Template)+",", ","+c.Image+",") {
				rs = r
			}
		}
	}
	if rs == nil {
		return Fail, e.msg().f("%s does not exist yet", "%s 이(가) 아직 없습니다", what), nil
	}
	ev := []string{fmt.Sprintf("%s: replicas=%d ready=%d revision=%s history=%s selector=%s", rs.Name, replicas(rs.Spec.Replicas), rs.Status.ReadyReplicas,
		valueOrNone(rs.Annotations[revisionAnnotation]), valueOrNone(rs.Annotations["deployment.kubernetes.io/revision-history"]), metav1.FormatLabelSelector(rs.Spec.Selector))}
	if c.Selector != "" {
		want, _ := labels.Parse(c.Selector)
		got, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || got.String() != want.String() {
			return Fail, e.msg().f("%s selects %s; want %s", "%s 의 셀렉터는 %s 입니다; %s 이어야 합니다", what, metav1.FormatLabelSelector(rs.Spec.Selector), c.Selector), ev
		}
	}
	if c.Replicas != nil {
		if replicas(rs.Spec.Replicas) != *c.Replicas || rs.Status.ReadyReplicas != *c.Replicas {
			return Fail, e.msg().f("%s has %d replicas (%d Ready); want %d", "%s 의 레플리카: %d (Ready %d); %d 이어야 합니다", what, replicas(rs.Spec.Replicas), rs.Status.ReadyReplicas, *c.Replicas), ev
		}
	}
	for k, v := range c.Annotations {
		if rs.Annotations[k] != v {
			return Fail, e.msg().f("%s has annotation %s=%v; want %s", "%s 의 어노테이션 %s=%v; %s 이어야 합니다", what, k, valueOrNone(rs.Annotations[k]), v), ev
		}
	}
	if c.Replaced {
		created := 0
		for _, ev := range e.Store.Events("ReplicaSet", rs.Name) {
			// Events outlive a deleted ReplicaSet of the same name: count this one's.
			if ev.InvolvedObject.UID == rs.UID && ev.Reason == "SuccessfulCreate" {
				created += int(max(ev.Count, 1))
			}
		}
		if created <= int(replicas(rs.Spec.Replicas)) {
			return Fail, e.msg().f("%s has created %d pods for %d replicas: no pod was replaced yet (delete one and watch)", "%s 이(가) 레플리카 %[3]d 개에 포드 %[2]d 개를 만들었습니다: 아직 교체된 포드가 없습니다 (하나를 지워 보세요)", what, created, replicas(rs.Spec.Replicas)), ev
		}
		ev = append(ev, fmt.Sprintf("created %d pods in all", created))
	}
	if c.Original {
		hist := rs.Annotations["deployment.kubernetes.io/revision-history"]
		if rs.Annotations[revisionAnnotation] != "1" && !containsField(hist, "1") {
			return Fail, e.msg().f("%s is not the ReplicaSet of revision 1", "%s 은(는) 리비전 1 의 레플리카셋이 아닙니다", what), ev
		}
	}
	return Pass, e.msg().f("%s", "%s", ev[0]), nil
}

func containsField(list, v string) bool {
	for _, f := range strings.Split(list, ",") {
		if f == v {
			return true
		}
	}
	return false
}
