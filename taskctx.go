package gather

import (
	"context"
	"time"
)

// taskExt is what a task needs only when its context is used or it is
// cancelled on its own: the child context of the scope's, and Cancel's
// cause. It never changes once published in the future's waiters: Cancel before the
// context is made publishes one with only the cause; making the context
// publishes a new one.
type taskExt struct {
	ctx    context.Context // nil until the task's context is needed
	cancel context.CancelCauseFunc
	cause  error // Cancel's cause, nil if not cancelled before ctx was made
}

// taskContext is the context a task started by Go receives: a child of its
// scope's context that Future.Cancel can cancel on its own. It is the task
// itself under another type, so that it costs no allocation; the child
// context of the standard library is made only when the task, or a context
// derived from it, first needs its Done channel (or, after a Cancel, its
// values and cause): a task that never looks at its context costs no
// context at all.
type taskContext[T any] task[T]

// made returns the child context, made on first use.
func (c *taskContext[T]) made() context.Context {
	if x := c.ext(); x != nil && x.ctx != nil {
		return x.ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	x := c.ext()
	if x != nil && x.ctx != nil {
		return x.ctx
	}
	ctx, cancel := context.WithCancelCause(c.s.ctx)
	if x != nil { // cancelled before it was made
		cancel(x.cause)
	}
	c.waiters().ext.Store(&taskExt{ctx: ctx, cancel: cancel})
	return ctx
}

func (c *taskContext[T]) Deadline() (time.Time, bool) { return c.s.ctx.Deadline() }

func (c *taskContext[T]) Done() <-chan struct{} { return c.made().Done() }

func (c *taskContext[T]) Err() error {
	if x := c.ext(); x != nil {
		if x.ctx == nil {
			return context.Canceled // cancelled on its own, not made yet
		}
		return x.ctx.Err()
	}
	return c.s.ctx.Err()
}

func (c *taskContext[T]) Value(key any) any {
	if c.ext() != nil { // context.Cause must find this context's cause
		return c.made().Value(key)
	}
	return c.s.ctx.Value(key)
}

func (c *taskContext[T]) String() string { return "gather.taskContext" }

// end is called when the task's function has returned, and reports whether
// the task was cancelled on its own, and with what cause. A Cancel from now
// until the future is done still reports true: the task did not stop for it.
func (t *task[T]) end() (cancelled bool, cause error) {
	if t.state.Load()&stateCancelAsked == 0 {
		return false, nil
	}
	t.mu.Lock() // Cancel publishes the cause under it
	defer t.mu.Unlock()
	if x := t.ext(); x != nil {
		if x.ctx != nil {
			return true, context.Cause(x.ctx)
		}
		return true, x.cause
	}
	return true, context.Canceled
}
