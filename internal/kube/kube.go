// Package kube holds client-go helpers: building clients from a kubeconfig and
// waiting for conditions with evidence when they do not come.
package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// RESTConfigFromKubeconfig builds a client config from kubeconfig bytes and an
// optional context name.
func RESTConfigFromKubeconfig(kubeconfig []byte, context string) (*rest.Config, error) {
	cc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*cc, context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	return cfg, nil
}

// KubeconfigNamespace is the namespace of a kubeconfig's context (the current one
// when context is empty); "" when it names none.
func KubeconfigNamespace(kubeconfig []byte, context string) (string, error) {
	cc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return "", fmt.Errorf("parse kubeconfig: %w", err)
	}
	if context == "" {
		context = cc.CurrentContext
	}
	if c := cc.Contexts[context]; c != nil {
		return c.Namespace, nil
	}
	return "", nil
}

// SystemNamespaces hold the pods a cluster needs before a lab can start
// (metallb-system: the load balancer's, for the LoadBalancer lab).
var SystemNamespaces = []string{"kube-system", "local-path-storage", "metallb-system"}

// WaitSystemPodsReady waits until every pod in SystemNamespaces is Ready, or for a
// Deployment's pods at least one of them (and at least the control plane exists). On timeout the error names each pod that is not
// Ready, why, and the latest warning events.
func WaitSystemPodsReady(ctx context.Context, cs kubernetes.Interface, timeout time.Duration) error {
	var notReady []string
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		notReady = notReady[:0]
		total := 0
		components := map[string]bool{}
		for _, ns := range SystemNamespaces {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				notReady = append(notReady, "cannot list pods: "+err.Error())
				return false, nil // the API may still be starting
			}
			// A Deployment serves once one replica is Ready (CoreDNS's second replica
			// often lags the first by seconds); every other pod must be Ready itself.
			readyOwners := map[string]bool{}
			for i := range pods.Items {
				if o := metav1.GetControllerOf(&pods.Items[i]); o != nil && o.Kind == "ReplicaSet" && PodReady(&pods.Items[i]) {
					readyOwners[string(o.UID)] = true
				}
			}
			for i := range pods.Items {
				p := &pods.Items[i]
				total++
				if ns == metav1.NamespaceSystem && p.Labels["tier"] == "control-plane" {
					components[p.Labels["component"]] = true
				}
				if p.Status.Phase == corev1.PodSucceeded {
					continue
				}
				if o := metav1.GetControllerOf(p); o != nil && o.Kind == "ReplicaSet" && readyOwners[string(o.UID)] {
					continue
				}
				if !PodReady(p) {
					notReady = append(notReady, ns+"/"+p.Name+" ("+PodProblem(p)+")")
				}
			}
		}
		// The control plane's static pods appear as the kubelet mirrors them, one by
		// one: each must be there (and Ready, above), then kube-proxy, CoreDNS, CNI.
		if missing := missingControlPlane(components); len(missing) > 0 {
			notReady = append(notReady, "no pod yet for "+strings.Join(missing, ", "))
			return false, nil
		}
		if total < 7 {
			notReady = append(notReady, fmt.Sprintf("only %d system pods exist so far", total))
			return false, nil
		}
		return len(notReady) == 0, nil
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("system pods not Ready after %s: %s%s", timeout, strings.Join(notReady, "; "), recentWarnings(context.WithoutCancel(ctx), cs))
}

// controlPlane are the components kubeadm runs as static pods, by their label.
var controlPlane = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}

// missingControlPlane lists the control-plane components with no pod among those
// seen (by their component label).
func missingControlPlane(seen map[string]bool) []string {
	var missing []string
	for _, c := range controlPlane {
		if !seen[c] {
			missing = append(missing, c)
		}
	}
	return missing
}

// PodReady reports the pod's Ready condition.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodProblem says in a few words why a pod is not Ready.
func PodProblem(p *corev1.Pod) string {
	for _, s := range p.Status.ContainerStatuses {
		if w := s.State.Waiting; w != nil && w.Reason != "" {
			return s.Name + ": " + w.Reason
		}
		if t := s.State.Terminated; t != nil {
			return fmt.Sprintf("%s: terminated (%s, exit %d)", s.Name, t.Reason, t.ExitCode)
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			return c.Message
		}
	}
	return string(p.Status.Phase)
}

func recentWarnings(ctx context.Context, cs kubernetes.Interface) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	evs, err := cs.CoreV1().Events("").List(ctx, metav1.ListOptions{FieldSelector: "type=Warning"})
	if err != nil || len(evs.Items) == 0 {
		return ""
	}
	sort.Slice(evs.Items, func(i, j int) bool { return evs.Items[i].LastTimestamp.After(evs.Items[j].LastTimestamp.Time) })
	var lines []string
	for i, e := range evs.Items {
		if i == 5 {
			break
		}
		lines = append(lines, fmt.Sprintf("%s/%s %s: %s", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message))
	}
	return "\nrecent warnings:\n  " + strings.Join(lines, "\n  ")
}

// ValidateName reports whether s can name a namespace (a DNS-1123 label).
func ValidateName(s string) error {
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return fmt.Errorf("%q: %s", s, strings.Join(errs, "; "))
	}
	return nil
}
