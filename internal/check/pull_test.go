package check

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/lab"
)

// waitingPod is a pod whose container waits for reason, as the kubelet reports a
// tag the cluster's registry does not have.
func waitingPod(name string, labels map[string]string, owner *metav1.OwnerReference, container, image, reason string) *corev1.Pod {
	p := readyPod(name, labels, owner, image)
	p.Spec.Containers[0].Name = container
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	p.Status.Phase = corev1.PodPending
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: container,
		// The status names the image as containerd does; the message uses what the learner wrote.
		Image: "docker.io/library/" + image,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: `Back-off pulling image "` + image + `"`}},
	}}
	return p
}

func TestAPodThatCannotPullSaysWhyAndWhatIsThere(t *testing.T) {
	t.Parallel()
	have := strings.Join(images.LabImages, ", ")
	enWant := "container my-nginx-container cannot pull image nginx:1.99: it is not available offline; this cluster's registry has " + have
	koWant := "컨테이너 my-nginx-container 이(가) 이미지 nginx:1.99 을(를) 받을 수 없습니다: 오프라인 클러스터에는 없는 이미지입니다; 이 클러스터의 레지스트리에 있는 이미지: " + have
	podCheck := lab.Check{Pods: &lab.PodsCheck{Name: "my-nginx-pod", Count: ptr(1), Ready: true}}
	pulling := func(reason string) []runtime.Object {
		return []runtime.Object{waitingPod("my-nginx-pod", nil, nil, "my-nginx-container", "nginx:1.99", reason)}
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "replicaset-nginx", Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "my-nginx-container", Image: "nginx:1.99"}}}}},
	}
	d := deployment("1", "nginx:1.99", 0)
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "my-nginx"}}
	for _, tt := range []struct {
		name     string
		lang     string
		objs     []runtime.Object
		check    lab.Check
		message  string // the message, "; ", the diagnosis must contain it
		evidence string // some evidence line must contain it ("" for none about pulls)
	}{
		{"backoff", "en", pulling("ImagePullBackOff"), podCheck, enWant, "my-nginx-pod/my-nginx-container: ImagePullBackOff: Back-off pulling image \"nginx:1.99\""},
		{"err image pull", "en", pulling("ErrImagePull"), podCheck, enWant, "ErrImagePull"},
		{"invalid name", "en", pulling("InvalidImageName"), podCheck, enWant, "InvalidImageName"},
		{"in Korean", "ko", pulling("ImagePullBackOff"), podCheck, koWant, "ImagePullBackOff"},
		{"still creating: no pull message", "en", pulling("ContainerCreating"), podCheck, "matches 0 Ready pods; want 1", ""},
		{"a pods check that wants them Ready", "en", []runtime.Object{waitingPod("rs-a1", map[string]string{"app": "x"}, nil, "nginx", "nginx:1.99", "ErrImagePull")},
			lab.Check{Pods: &lab.PodsCheck{Selector: "app=x", Count: ptr(3), Ready: true}}, "matches 0 Ready pods; want 3; container nginx cannot pull image nginx:1.99", "rs-a1/nginx"},
		{"a pods check that does not want them Ready", "en", []runtime.Object{waitingPod("rs-a1", map[string]string{"app": "x"}, nil, "nginx", "nginx:1.99", "ErrImagePull")},
			lab.Check{Pods: &lab.PodsCheck{Selector: "app=x", Count: ptr(0)}}, "matches 1 pods; want 0", ""},
		{"replicaset", "en", []runtime.Object{rs, waitingPod("replicaset-nginx-a", map[string]string{"app": "x"}, rsOwner("replicaset-nginx"), "my-nginx-container", "nginx:1.99", "ImagePullBackOff")},
			lab.Check{ReplicaSet: &lab.ReplicaSetCheck{Name: "replicaset-nginx", Replicas: ptr(int32(3))}}, "want 3; " + enWant, "replicaset-nginx-a/my-nginx-container"},
		{"replicaset ignores pods it does not own", "en", []runtime.Object{rs, waitingPod("other-a", map[string]string{"app": "x"}, nil, "my-nginx-container", "nginx:1.99", "ImagePullBackOff")},
			lab.Check{ReplicaSet: &lab.ReplicaSetCheck{Name: "replicaset-nginx", Replicas: ptr(int32(3))}}, "(0 Ready); want 3", ""},
		{"deployment", "en", []runtime.Object{d, waitingPod("my-nginx-deployment-5d-a", map[string]string{"app": "my-nginx"}, rsOwner("my-nginx-deployment-5d"), "nginx", "nginx:1.99", "ErrImagePull")},
			lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", ReadyReplicas: ptr(int32(3))}}, "container nginx cannot pull image nginx:1.99: it is not available offline", "my-nginx-deployment-5d-a/nginx: ErrImagePull"},
		{"exec into a pod that cannot start", "en", []runtime.Object{waitingPod("my-nginx-pod", nil, nil, "ubuntu-sidecar-container", "alicek106/rr-test:curly", "ImagePullBackOff")},
			lab.Check{Exec: &lab.ExecCheck{Pod: "my-nginx-pod", Container: "ubuntu-sidecar-container", Command: []string{"curl", "localhost"}, Contains: "Welcome"}},
			"pod my-nginx-pod is not running yet; container ubuntu-sidecar-container cannot pull image alicek106/rr-test:curly", "ImagePullBackOff"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEval(t, tt.lang, nil, tt.objs...)
			c := tt.check
			c.ID = "c"
			r := e.Evaluate(context.Background(), &c, nil)
			// The message says what the check found; the diagnosis, why.
			said := r.Message + "; " + r.Diagnosis
			if r.Status != Fail || !strings.Contains(said, tt.message) {
				t.Errorf("got %s %q, diagnosis %q\nwant fail containing %q", r.Status, r.Message, r.Diagnosis, tt.message)
			}
			found := false
			for _, ev := range r.Evidence {
				found = found || tt.evidence != "" && strings.Contains(ev, tt.evidence)
			}
			if tt.evidence != "" && !found {
				t.Errorf("evidence %q lacks %q", r.Evidence, tt.evidence)
			}
			if tt.evidence == "" && (strings.Contains(said, "cannot pull") || strings.Contains(said, "받을 수 없습니다")) {
				t.Errorf("message or diagnosis speaks of a pull problem there is not: %q", said)
			}
		})
	}
}
