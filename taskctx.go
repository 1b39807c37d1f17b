package gather

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// taskCtx is the context a task started by Go receives: a child of its
// scope's context that Future.Cancel can cancel on its own. The child
// context of the standard library is made only when the task (or a
// context derived from it) first needs its Done channel, its cause or its
// values after a cancel: a task that never looks at its context costs no
// context at all.
type taskCtx struct {
	parent context.Context // the scope's context
	child  atomic.Pointer[childCtx]

	mu        sync.Mutex
	cancelled bool  // Cancel was called while the task ran
	cause     error // Cancel's cause
	ended     bool  // the task's function has returned
}

type childCtx struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// made returns the child context, made on first use.
func (tc *taskCtx) made() context.Context {
	if c := tc.child.Load(); c != nil {
		return c.ctx
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if c := tc.child.Load(); c != nil {
		return c.ctx
	}
	ctx, cancel := context.WithCancelCause(tc.parent)
	if tc.cancelled {
		cancel(tc.cause)
	}
	tc.child.Store(&childCtx{ctx: ctx, cancel: cancel})
	return ctx
}

func (tc *taskCtx) Deadline() (time.Time, bool) { return tc.parent.Deadline() }

func (tc *taskCtx) Done() <-chan struct{} { return tc.made().Done() }

func (tc *taskCtx) Err() error {
	if c := tc.child.Load(); c != nil {
		return c.ctx.Err()
	}
	tc.mu.Lock()
	cancelled := tc.cancelled
	tc.mu.Unlock()
	if cancelled {
		return tc.made().Err()
	}
	return tc.parent.Err()
}

func (tc *taskCtx) Value(key any) any {
	if c := tc.child.Load(); c != nil {
		return c.ctx.Value(key)
	}
	tc.mu.Lock()
	cancelled := tc.cancelled
	tc.mu.Unlock()
	if cancelled { // context.Cause must find this context's cause
		return tc.made().Value(key)
	}
	return tc.parent.Value(key)
}

func (tc *taskCtx) String() string { return "gather.taskContext" }

// cancel cancels the task's context with cause (context.Canceled when nil)
// and reports whether the task was still running. The first cause stays.
func (tc *taskCtx) cancel(cause error) bool {
	if cause == nil {
		cause = context.Canceled
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.ended {
		return false
	}
	if !tc.cancelled {
		tc.cancelled, tc.cause = true, cause
		if c := tc.child.Load(); c != nil {
			c.cancel(cause)
		}
	}
	return true
}

// end records that the task's function returned, and reports whether it was
// cancelled on its own, and with what cause.
func (tc *taskCtx) end() (cancelled bool, cause error) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.ended = true
	return tc.cancelled, tc.cause
}
