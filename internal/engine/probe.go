package engine

import (
	"context"
	"fmt"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/kindlab/kindlab/internal/images"
	"github.com/kindlab/kindlab/internal/kube"
)

// The helper pod runs the in-cluster HTTP and DNS checks. Whoever may make pods in
// ProbeNamespace (a learner on their own cluster, an instructor) uses the one
// there, so it never shows up among the lab's pods. A learner whose rights end at
// their namespace (`kindlab class create --namespaces`) gets one in their own
// namespace: they can change what it answers for their own checks only, never
// the instructor's helper that `class status` and the instructor's `grade` use.
const (
	ProbeNamespace = "kindlab-system"
	ProbePod       = "kindlab-probe"
	// probeSpecLabel names the helper's pod spec; a helper made by an older kindlab
	// (as root, with a writable root file system) is replaced.
	probeSpecLabel = "kindlab.dev/helper-spec"
	probeSpec      = "2"
)

// ensureProbe returns the namespace of a Ready helper pod, starting one if needed.
// A failed or cancelled start is not remembered: the next check tries again.
func (s *Session) ensureProbe(ctx context.Context) (string, error) {
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	if s.probeNS == "" {
		ns, err := s.helperNamespace(ctx)
		if err != nil {
			// Not kept: a cancelled check must not decide where every later
			// check's helper lives.
			return "", fmt.Errorf("where may this session run kindlab's helper? %w", err)
		}
		s.probeNS = ns
	}
	if !s.probeReady {
		if err := s.startProbe(ctx, s.probeNS); err != nil {
			return "", err
		}
		s.probeReady = true
	}
	return s.probeNS, nil
}

// forgetProbe makes the next check look for the helper again (it was deleted).
func (s *Session) forgetProbe() {
	s.probeMu.Lock()
	s.probeReady = false
	s.probeMu.Unlock()
}

// EnsureProbe starts the helper pod now (an instructor does before a class).
func (s *Session) EnsureProbe(ctx context.Context) error {
	_, err := s.ensureProbe(ctx)
	return err
}

// helperNamespace is ProbeNamespace if this session may make pods there, else the
// lab namespace; an error when the API server could not say.
func (s *Session) helperNamespace(ctx context.Context) (string, error) {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ProbeNamespace, Verb: "create", Resource: "pods"},
	}}
	r, err := s.cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	switch {
	case err != nil:
		return "", err
	case r.Status.Allowed:
		return ProbeNamespace, nil
	}
	return s.target.Namespace, nil
}

// ProbePodSpec is the helper: a non-root user, a read-only root file system, no
// capabilities, no service account token; curl and dig need nothing more.
func ProbePodSpec() corev1.PodSpec {
	return corev1.PodSpec{
		TerminationGracePeriodSeconds: ptr.To[int64](0),
		AutomountServiceAccountToken:  ptr.To(false),
		EnableServiceLinks:            ptr.To(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65534), RunAsGroup: ptr.To[int64](65534),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name: "probe", Image: images.Debug, ImagePullPolicy: corev1.PullIfNotPresent,
			Command: []string{"sleep", "infinity"},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true), Privileged: ptr.To(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			},
		}},
	}
}

func (s *Session) startProbe(ctx context.Context, ns string) error {
	pods := s.cs.CoreV1().Pods(ns)
	if p, err := pods.Get(ctx, ProbePod, metav1.GetOptions{}); err == nil {
		if p.Labels[probeSpecLabel] == probeSpec && p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
			if kube.PodReady(p) {
				return nil
			}
		} else if err := s.removeProbe(ctx, ns); err != nil {
			return err
		}
	}
	if ns == ProbeNamespace {
		nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ProbeNamespace, Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}}}
		if _, err := s.cs.CoreV1().Namespaces().Create(ctx, nsObj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", ProbeNamespace, err)
		}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: ProbePod, Labels: map[string]string{
			kube.ManagedByLabel: kube.ManagedBy, "app.kubernetes.io/name": ProbePod, probeSpecLabel: probeSpec}},
		Spec: ProbePodSpec(),
	}
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create helper pod %s/%s: %w", ns, ProbePod, err)
	}
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := pods.Get(ctx, ProbePod, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = p
		return kube.PodReady(p), nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		why := "not created"
		if last != nil {
			why = kube.PodProblem(last)
		}
		return fmt.Errorf("helper pod %s/%s is not Ready (%s): is image %s in the node? (kindlab cluster status)", ns, ProbePod, why, images.Debug)
	}
	return nil
}

// removeProbe deletes a helper pod that cannot serve and waits until it is gone.
func (s *Session) removeProbe(ctx context.Context, ns string) error {
	pods := s.cs.CoreV1().Pods(ns)
	if err := pods.Delete(ctx, ProbePod, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("replace helper pod %s/%s: %w", ns, ProbePod, err)
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := pods.Get(ctx, ProbePod, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// Probe implements check.Cluster: it runs argv in the helper pod. A helper that
// was deleted under it (a learner's `kubectl delete pods --all`) is made again.
func (s *Session) Probe(ctx context.Context, argv ...string) (string, error) {
	for try := 0; ; try++ {
		ns, err := s.ensureProbe(ctx)
		if err != nil {
			return "", err
		}
		res, err := kube.Exec(ctx, s.target.Config, s.cs, ns, ProbePod, "probe", argv...)
		if err != nil && try == 0 && ctx.Err() == nil {
			if _, gerr := s.cs.CoreV1().Pods(ns).Get(ctx, ProbePod, metav1.GetOptions{}); apierrors.IsNotFound(gerr) {
				s.forgetProbe()
				continue
			}
		}
		return res.Stdout, err
	}
}

// Exec implements check.Cluster: it runs argv in a learner's pod.
func (s *Session) Exec(ctx context.Context, pod, container string, argv ...string) (string, error) {
	res, err := kube.Exec(ctx, s.target.Config, s.cs, s.target.Namespace, pod, container, argv...)
	return res.Stdout + res.Stderr, err
}

// Logs implements check.Cluster: the last lines a container of a learner's pod
// wrote (of its previous instance, when previous is set), at most 4 KiB.
func (s *Session) Logs(ctx context.Context, pod, container string, previous bool) (string, error) {
	return kube.TailLog(ctx, s.cs, s.target.Namespace, pod, container, previous, 5, 4096)
}
