package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/kindlab/kindlab/internal/class"
	"github.com/kindlab/kindlab/internal/engine"
	"github.com/kindlab/kindlab/internal/kube"
)

func newClassKubeconfigCommand(g *Globals, s Streams) *cobra.Command {
	var learners []string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "kubeconfig --learner NAME...",
		Short: "Issue a learner (namespace mode) a new kubeconfig with a fresh token",
		Long: `kubeconfig writes a new kubeconfig for each learner named, with a token from
the API server's TokenRequest that works for --token-ttl, over the old file. A token
issued before stays valid until it expires.`,
		Example: `  kindlab class kubeconfig --learner student-03 --token-ttl 24h`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if len(learners) == 0 {
				return cannot(errors.New("name the learners with --learner NAME"))
			}
			if ttl < 10*time.Minute {
				return cannot(errors.New("--token-ttl must be at least 10m"))
			}
			c, dir, targets, err := classTargets(learners)
			if err != nil {
				return err
			}
			if c.Mode != class.ModeNamespaces {
				return cannot(errors.New("learners with a cluster of their own have kind's admin kubeconfig, which does not expire: this is for a class made with --namespaces"))
			}
			admin, err := g.classAdmin(ctx, c)
			if err != nil {
				return err
			}
			cs, err := kubernetes.NewForConfig(admin)
			if err != nil {
				return cannot(err)
			}
			for _, l := range targets {
				grant, err := class.IssueKubeconfig(ctx, cs, admin, l.Namespace, ttl)
				if err != nil {
					return err
				}
				if _, err := class.WriteKubeconfig(dir, l.Name, grant.Kubeconfig); err != nil {
					return cannot(err)
				}
				l.TokenExpires = grant.Expires
				c.Put(l)
				if err := c.Save(); err != nil {
					return err
				}
				fmt.Fprintf(s.Out, "learner %s: %s (valid until %s)\n", l.Name, l.Kubeconfig, grant.Expires.Local().Format("2006-01-02 15:04 MST"))
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&learners, "learner", nil, "learner to issue a kubeconfig for (repeatable)")
	cmd.Flags().DurationVar(&ttl, "token-ttl", class.DefaultTokenTTL, "how long the new kubeconfig works")
	return cmd
}

// Isolation verdicts of probeIsolation.
const (
	isolationEnforced    = "enforced"
	isolationNotEnforced = "NOT enforced"
	isolationUnknown     = "unknown"
)

// isolationProbeNS is where probeIsolation works; removed when it is done.
const isolationProbeNS = "kindlab-isolation-probe"

// probeIsolation finds out whether the cluster's network enforces NetworkPolicy: a
// pod answers kindlab's helper, then a policy that lets nothing in is applied, and
// the helper tries again for up to 15 s. It returns a verdict and what was seen.
func probeIsolation(ctx context.Context, sess *engine.Session) (string, string) {
	cs := sess.Client()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: isolationProbeNS, Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return isolationUnknown, fmt.Sprintf("could not test it: %v", err)
	}
	defer func() {
		_ = cs.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), isolationProbeNS, metav1.DeleteOptions{})
	}()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "target", Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](0),
			Containers:                    []corev1.Container{{Name: "web", Image: "nginx:1.10", ImagePullPolicy: corev1.PullIfNotPresent}},
		},
	}
	if _, err := cs.CoreV1().Pods(isolationProbeNS).Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return isolationUnknown, fmt.Sprintf("could not test it: %v", err)
	}
	var ip string
	err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods(isolationProbeNS).Get(ctx, "target", metav1.GetOptions{})
		if err != nil || !kube.PodReady(p) {
			return false, nil
		}
		ip = p.Status.PodIP
		return ip != "", nil
	})
	if err != nil {
		return isolationUnknown, "could not test it: the test pod (nginx:1.10) did not start within a minute"
	}
	answers := func() bool {
		out, err := sess.Probe(ctx, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "http://"+ip+"/")
		return err == nil && strings.TrimSpace(out) == "200"
	}
	if !answers() {
		return isolationUnknown, "could not test it: kindlab's helper does not reach a pod even without a policy"
	}
	deny := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "deny-all", Labels: map[string]string{kube.ManagedByLabel: kube.ManagedBy}},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}
	if _, err := cs.NetworkingV1().NetworkPolicies(isolationProbeNS).Create(ctx, deny, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return isolationUnknown, fmt.Sprintf("could not test it: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !answers() {
			return isolationEnforced, "each learner namespace's NetworkPolicy kindlab-isolate lets in only its own pods, kindlab's helper and the nodes (checked: a pod behind a deny-all policy stopped answering)"
		}
		time.Sleep(time.Second)
	}
	return isolationNotEnforced, "each learner namespace has NetworkPolicy kindlab-isolate, but this cluster's network does not enforce NetworkPolicy (checked: a pod behind a deny-all policy still answered after 15 s), so learners' pods can reach each other's; see README, \"Teaching a class\""
}
