package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

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
