package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kindlab/kindlab/internal/check"
	"github.com/kindlab/kindlab/internal/lab"
)

// Setup runs a step's setup actions.
func (s *Session) Setup(ctx context.Context, l *lab.Lab, st *lab.Step) error {
	for i, a := range st.Setup {
		if err := s.Run(ctx, l, st, a, map[string]string{}); err != nil {
			return fmt.Errorf("setup of %s/%s, action %d: %w", l.ID, st.ID, i+1, err)
		}
	}
	return nil
}

// Solve performs a step's reference solution with the learner's answers and waits
// until its checks pass. It returns the results and the answers after the
// solution (those it recorded added to a copy of the ones given).
func (s *Session) Solve(ctx context.Context, l *lab.Lab, st *lab.Step, answers map[string]string, timeout time.Duration) ([]check.Result, map[string]string, error) {
	got := maps.Clone(answers)
	if got == nil {
		got = map[string]string{}
	}
	for i, a := range st.Solution.Actions {
		if err := s.Run(ctx, l, st, a, got); err != nil {
			return nil, got, fmt.Errorf("solution of %s/%s, action %d: %w", l.ID, st.ID, i+1, err)
		}
	}
	rs, err := s.WaitPass(ctx, st, got, timeout)
	return rs, got, err
}

// Reset removes everything a lab's steps and its learner may have created and
// waits until it is gone, leaving the namespace as a new cluster has it.
func (s *Session) Reset(ctx context.Context, l *lab.Lab) error {
	zero := int64(0)
	var errs []error
	// Controllers first, so they do not replace the pods being removed.
	for _, kind := range []string{"Deployment", "ReplicaSet", "Service", "Pod"} {
		for _, ref := range l.Cleanup {
			if ref.Kind != kind {
				continue
			}
			if err := s.delete(ctx, ref, &zero); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Objects names, sorted, what a learner sees of the namespace with `kubectl get
// all`: its pods (but those being deleted), ReplicaSets, Deployments and
// Services, as kind/name.
func (s *Session) Objects(ctx context.Context) ([]string, error) {
	ns := s.target.Namespace
	var out []string
	pods, err := s.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, "pod/"+p.Name)
		}
	}
	rss, err := s.cs.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, r := range rss.Items {
		out = append(out, "replicaset/"+r.Name)
	}
	ds, err := s.cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, d := range ds.Items {
		out = append(out, "deployment/"+d.Name)
	}
	svcs, err := s.cs.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, v := range svcs.Items {
		out = append(out, "service/"+v.Name)
	}
	slices.Sort(out)
	return out, nil
}
