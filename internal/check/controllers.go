package check

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kindlab/kindlab/internal/lab"
)

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
			return e.withPullProblem(e.selectedPods(metav1.LabelSelectorAsSelector(d.Spec.Selector)), Fail,
				e.msg().f("Deployment %s has %d Ready of %d pods (%d updated); want %d, all updated", "디플로이먼트 %s: Ready %d / 전체 %d (업데이트 %d); %d 개 모두 업데이트·Ready 여야 합니다", c.Name, d.Status.ReadyReplicas, d.Status.Replicas, d.Status.UpdatedReplicas, *c.ReadyReplicas), ev)
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
			return e.withPullProblem(e.ownedPods(rs), Fail,
				e.msg().f("%s has %d replicas (%d Ready); want %d", "%s 의 레플리카: %d (Ready %d); %d 이어야 합니다", what, replicas(rs.Spec.Replicas), rs.Status.ReadyReplicas, *c.Replicas), ev)
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

// ownedPods are the pods (not being deleted) rs controls.
func (e *Evaluator) ownedPods(rs *appsv1.ReplicaSet) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range e.selectedPods(metav1.LabelSelectorAsSelector(rs.Spec.Selector)) {
		if o := metav1.GetControllerOf(p); o != nil && o.Kind == "ReplicaSet" && o.Name == rs.Name {
			out = append(out, p)
		}
	}
	return out
}
