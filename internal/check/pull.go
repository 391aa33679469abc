package check

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kindlab/kindlab/internal/images"
)

// pullReasons are the waiting reasons of a container whose image cannot be had.
// A kindlab cluster is offline: its registry serves the lab images and nothing else,
// so a typo in a tag (nginx:1.99) ends here rather than in a slow pull.
var pullReasons = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true}

// pullProblem says, in the learner's language, which image a container of p cannot
// pull and which images the cluster has; evidence is the kubelet's own words. Both
// are "" when no container of p waits for its image.
func (e *Evaluator) pullProblem(p *corev1.Pod) (message, evidence string) {
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, s := range statuses {
		w := s.State.Waiting
		if w == nil || !pullReasons[w.Reason] {
			continue
		}
		// The spec's image is what the learner typed; the status may hold it normalised.
		img := specImage(p, s.Name)
		if img == "" {
			img = s.Image
		}
		message = e.msg().f("container %s cannot pull image %s: it is not available offline; this cluster's registry has %s",
			"컨테이너 %s 이(가) 이미지 %s 을(를) 받을 수 없습니다: 오프라인 클러스터에는 없는 이미지입니다; 이 클러스터의 레지스트리에 있는 이미지: %s",
			s.Name, img, strings.Join(images.LabImages, ", "))
		evidence = fmt.Sprintf("%s/%s: %s", p.Name, s.Name, w.Reason)
		if w.Message != "" {
			evidence += ": " + short(w.Message)
		}
		return message, evidence
	}
	return "", ""
}

func specImage(p *corev1.Pod, container string) string {
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for _, c := range cs {
			if c.Name == container {
				return c.Image
			}
		}
	}
	return ""
}

// firstPullProblem is the pull problem of the first of pods that has one.
func (e *Evaluator) firstPullProblem(pods []*corev1.Pod) (message, evidence string) {
	for _, p := range pods {
		if m, ev := e.pullProblem(p); m != "" {
			return m, ev
		}
	}
	return "", ""
}

// withPullProblem adds the kubelet's words about the first of pods that cannot
// pull its image to a failing check's evidence (the diagnosis says it in the
// learner's words).
func (e *Evaluator) withPullProblem(pods []*corev1.Pod, st Status, msg string, ev []string) (Status, string, []string) {
	if st != Fail {
		return st, msg, ev
	}
	if _, pev := e.firstPullProblem(pods); pev != "" {
		ev = append(ev, pev)
	}
	return st, msg, ev
}

// selectedPods are the pods (not being deleted) a controller's selector matches.
func (e *Evaluator) selectedPods(sel labels.Selector, err error) []*corev1.Pod {
	if err != nil {
		return nil
	}
	return e.Store.Pods(sel)
}
