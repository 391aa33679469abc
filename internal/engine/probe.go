package engine

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
)

// The helper pod that runs in-cluster HTTP and DNS checks lives in its own
// namespace, so it never shows up among the learner's pods or in their counts.
const (
	ProbeNamespace = "kindlab-system"
	ProbePod       = "kindlab-probe"
)

func (s *Session) ensureProbe(ctx context.Context) error {
	s.probeOnce.Do(func() { s.probeErr = s.createProbe(ctx) })
	return s.probeErr
}

// EnsureProbe starts the helper pod now (an instructor does, for learners whose
// access is limited to their namespace: they may use it, not create it).
func (s *Session) EnsureProbe(ctx context.Context) error { return s.ensureProbe(ctx) }

func (s *Session) createProbe(ctx context.Context) error {
	// A learner limited to a namespace may read and exec into the helper pod that
	// `kindlab class create` made, but not create it: use it when it is there.
	if p, err := s.cs.CoreV1().Pods(ProbeNamespace).Get(ctx, ProbePod, metav1.GetOptions{}); err == nil && kube.PodReady(p) {
		return nil
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ProbeNamespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "kindlab"}}}
	if _, err := s.cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ProbeNamespace, err)
	}
	zero := int64(0)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: ProbePod, Labels: map[string]string{"app.kubernetes.io/managed-by": "kindlab"}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &zero,
			Containers: []corev1.Container{{
				Name: "probe", Image: images.Debug, ImagePullPolicy: corev1.PullIfNotPresent,
				Command: []string{"sleep", "infinity"},
			}},
		},
	}
	if _, err := s.cs.CoreV1().Pods(ProbeNamespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create helper pod: %w", err)
	}
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := s.cs.CoreV1().Pods(ProbeNamespace).Get(ctx, ProbePod, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = p
		return kube.PodReady(p), nil
	})
	if err != nil {
		why := "not created"
		if last != nil {
			why = kube.PodProblem(last)
		}
		return fmt.Errorf("helper pod %s/%s is not Ready (%s): is image %s in the node? (kindlab cluster status)", ProbeNamespace, ProbePod, why, images.Debug)
	}
	return nil
}

// Probe implements check.Cluster: it runs argv in the helper pod.
func (s *Session) Probe(ctx context.Context, argv ...string) (string, error) {
	if err := s.ensureProbe(ctx); err != nil {
		return "", err
	}
	res, err := kube.Exec(ctx, s.target.Config, s.cs, ProbeNamespace, ProbePod, "probe", argv...)
	return res.Stdout, err
}

// Exec implements check.Cluster: it runs argv in a learner's pod.
func (s *Session) Exec(ctx context.Context, pod, container string, argv ...string) (string, error) {
	res, err := kube.Exec(ctx, s.target.Config, s.cs, s.target.Namespace, pod, container, argv...)
	return res.Stdout + res.Stderr, err
}
