package stream

import (
	"fmt"
	"sync/atomic"
)

// RotatingCrashes is a Failpoint for crash tests: every nth invocation of
// the pipeline (a retry counts as one) fails right after one of its steps,
// each step of Steps in turn, so a long enough run crashes after every
// step. Crashed counts the injected failures.
type RotatingCrashes struct {
	Every       int64
	invocations atomic.Int64
	Crashed     atomic.Int64
}

// Failpoint is the func to put in Env.Failpoint.
func (r *RotatingCrashes) Failpoint(step string) error {
	n := r.invocations.Load()
	if step == StepLoadState {
		n = r.invocations.Add(1) // a new invocation starts with loading its state
	}
	if r.Every > 0 && n%r.Every == 0 && step == Steps[(n/r.Every)%int64(len(Steps))] {
		r.Crashed.Add(1)
		return fmt.Errorf("injected crash after %s", step)
	}
	return nil
}
