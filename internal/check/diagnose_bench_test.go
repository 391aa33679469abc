package check

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kindlab/kindlab/internal/lab"
)

// BenchmarkDiagnose measures what a diagnosis adds to a failing check's
// evaluation, on a namespace the size of a busy learner's (the whole chapter's
// peak: 60 pods, 4 Services, a Deployment's history, 200 events) read from the
// watch cache. Each sub-benchmark is one failing check: "evaluate" is the whole
// Evaluate call with its diagnosis, "diagnosis" the diagnosis alone. A crashed
// container's log is asked once per crash (cached), so it is not in the loop.
func BenchmarkDiagnose(b *testing.B) {
	now := time.Now()
	var objs []runtime.Object
	for i := range 60 {
		p := readyPod(fmt.Sprintf("hostname-deployment-7c4b9d6f8-%05d", i), map[string]string{"app": "webserver"}, rsOwner("hostname-deployment-7c4b9d6f8"), "alicek106/rr-test:echo-hostname")
		p.UID = types.UID(fmt.Sprintf("uid-%d", i))
		objs = append(objs, p)
	}
	for i := range 200 {
		objs = append(objs, warning("Pod", fmt.Sprintf("hostname-deployment-7c4b9d6f8-%05d", i%60), types.UID(fmt.Sprintf("uid-%d", i%60)), "Unhealthy", "Readiness probe failed", now.Add(-time.Duration(i)*time.Second)))
	}
	crash := notReady("crash-a", corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: metav1.NewTime(now)}}, 4)
	crash.Labels = map[string]string{"app": "crash"}
	objs = append(objs, crash,
		waitingPod("my-nginx-pod", nil, nil, "my-nginx-container", "nginx:1.99", "ImagePullBackOff"),
		service("hostname-svc-clusterip", corev1.ServiceTypeClusterIP, map[string]string{"app": "webserverx"}, 0, intstr.FromInt32(80)),
		service("hostname-svc-nodeport", corev1.ServiceTypeNodePort, map[string]string{"app": "webserver"}, 31000, intstr.FromInt32(80)),
		deployment("3", "nginx:1.10", 3),
		replicaSet("a", "nginx:1.10", 3, map[string]string{revisionAnnotation: "3"}),
		replicaSet("b", "nginx:1.11", 0, map[string]string{revisionAnnotation: "2"}),
	)
	fc := &fakeCluster{logs: map[string]string{"crash-a/nginx/true": "error: boom"}, hostBodies: map[string]string{}}
	e := newEval(b, "en", fc, objs...)
	for _, bc := range []struct {
		name  string
		check lab.Check
	}{
		{"selector-miss", lab.Check{Endpoints: &lab.EndpointsCheck{Service: "hostname-svc-clusterip", Count: 3}}},
		{"image-not-offline", lab.Check{Pods: &lab.PodsCheck{Name: "my-nginx-pod", Count: ptr(1), Ready: true}}},
		{"crash-last-log-line", lab.Check{Pods: &lab.PodsCheck{Selector: "app=crash", Count: ptr(1), Ready: true}}},
		{"rollout-history", lab.Check{Deployment: &lab.DeploymentCheck{Name: "my-nginx-deployment", Revision: "2"}}},
		{"nodeport-held", lab.Check{Service: &lab.ServiceCheck{Name: "hostname-svc-nodeport-affinity", NodePort: 31000}}},
		{"typo-in-name", lab.Check{Exists: &lab.ObjectCheck{Kind: "Service", Name: "hostname-svc-nodeprot"}}},
	} {
		c := bc.check
		c.ID = bc.name
		if r := e.Evaluate(context.Background(), &c, nil); r.Status != Fail || r.Diagnosis == "" {
			b.Fatalf("%s: %s %q, diagnosis %q", bc.name, r.Status, r.Message, r.Diagnosis)
		}
		b.Run(bc.name+"/evaluate", func(b *testing.B) {
			for b.Loop() {
				e.Evaluate(context.Background(), &c, nil)
			}
		})
		b.Run(bc.name+"/diagnosis", func(b *testing.B) {
			for b.Loop() {
				e.diagnose(context.Background(), &c)
			}
		})
	}
}
