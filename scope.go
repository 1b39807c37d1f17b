package gather

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// A Scope owns a group of tasks, as asyncio's TaskGroup: tasks are started in
// it with Go, and Wait returns only when every one of them has returned. No
// task outlives its scope, provided its owner calls Wait.
//
// Every scope has a context, given to each of its tasks. It is cancelled, and
// the tasks should then return promptly, at the first of these moments:
//
//   - the parent context passed to NewScope is done;
//   - Cancel is called;
//   - a task panics (always, even with KeepGoing);
//   - a task returns a non-nil error, unless the scope was made with KeepGoing;
//   - Wait returns.
//
// Once the context is cancelled no new task starts: Go returns a future that
// already failed with the context's error, and the function never runs.
//
// A scope made with Limit runs at most that many tasks at once. Go then waits
// for a free slot, and stops waiting, without starting the task, when the
// scope's context is done. Tasks that start tasks in their own limited scope
// and wait for them can hold every slot while their children wait for one:
// give children a scope of their own, or a context their owner can cancel.
type Scope struct {
	ctx      context.Context
	done     <-chan struct{} // ctx.Done(), checked without ctx.Err's lock
	cancel   context.CancelCauseFunc
	slots    chan struct{} // nil when unlimited; a send takes a slot
	failFast bool

	// wg is written by every start and every end of a task; keep it off the
	// cache line of the fields above, which every task reads.
	_  [64]byte
	wg sync.WaitGroup

	mu       sync.Mutex
	firstErr error // the first error of a task or of a refused start
	panicErr error // the first panic, reported in preference to firstErr
}

// A ScopeOption configures a Scope made by NewScope.
type ScopeOption func(*Scope)

// Limit makes a scope run at most n tasks at once; Go waits for a free slot.
// n must be at least 1.
func Limit(n int) ScopeOption {
	if n < 1 {
		panic(fmt.Sprintf("gather: Limit(%d): the limit must be at least 1", n))
	}
	return func(s *Scope) { s.slots = make(chan struct{}, n) }
}

// KeepGoing makes a task's error its own business: it is kept in the task's
// future, does not cancel the scope and is not returned by Wait. A panic (or
// a runtime.Goexit) in a task still cancels the scope and is still returned
// by Wait.
func KeepGoing() ScopeOption {
	return func(s *Scope) { s.failFast = false }
}

// NewScope returns a scope whose context is derived from parent. Its owner
// must call Wait.
func NewScope(parent context.Context, opts ...ScopeOption) *Scope {
	ctx, cancel := context.WithCancelCause(parent)
	s := &Scope{ctx: ctx, done: ctx.Done(), cancel: cancel, failFast: true}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Context returns the scope's context, the one its tasks receive. Use it to
// start work that must stop when the scope is cancelled.
func (s *Scope) Context() context.Context { return s.ctx }

// Cancel cancels the scope's context: running tasks are asked to stop and no
// new task starts. Without KeepGoing, tasks that then return the context's
// error make Wait return context.Canceled (unless a task failed or panicked
// first). Cancel does not wait; call Wait for that.
func (s *Scope) Cancel() { s.cancel(context.Canceled) }

// Wait waits for every task started in the scope to return, then cancels the
// scope's context and returns: the error of the first task that panicked (a
// *PanicError) or called runtime.Goexit, if any; else the first error a task
// returned or a start was refused with (none with KeepGoing); else nil.
//
// Go must not be called once Wait has returned; tasks of the scope may call
// Go while Wait is waiting.
func (s *Scope) Wait() error {
	s.wg.Wait()
	s.cancel(context.Canceled)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.panicErr != nil {
		return s.panicErr
	}
	return s.firstErr
}

// record notes a task's error and cancels the scope when the error calls for
// it. panicked says the task panicked or called runtime.Goexit; an error a
// task returned counts as a plain error even if it wraps a *PanicError.
func (s *Scope) record(err error, panicked bool) {
	if !panicked && !s.failFast {
		return
	}
	s.mu.Lock()
	if panicked && s.panicErr == nil {
		s.panicErr = err
	}
	if s.firstErr == nil {
		s.firstErr = err
	}
	s.mu.Unlock()
	s.cancel(err)
}

// acquire takes a slot for a new task, or returns the context's error when
// the scope is cancelled before one is free.
func (s *Scope) acquire() error {
	if s.cancelled() {
		return s.ctx.Err()
	}
	if s.slots == nil {
		return nil
	}
	select {
	case s.slots <- struct{}{}:
	case <-s.done:
		return s.ctx.Err()
	}
	// Both cases may have been ready; a cancelled scope starts nothing.
	if s.cancelled() {
		<-s.slots
		return s.ctx.Err()
	}
	return nil
}

func (s *Scope) cancelled() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *Scope) release() {
	if s.slots != nil {
		<-s.slots
	}
}

// Go starts fn in a new goroutine now, as asyncio's create_task, and returns
// the future of its outcome. fn receives the task's own context: a child of
// the scope's, cancelled with it, and also by the future's Cancel. The task's
// context is not cancelled when fn returns (values fn returns may go on
// using it, a response body say) but when the scope is; until then a task
// whose context was used holds a child context of the scope's.
//
// If the scope has a Limit, Go first waits for a free slot. If the scope's
// context is done before fn can start, fn never runs and the returned future
// has already failed with the context's error.
//
// A panic in fn is recovered: the future fails with a *PanicError carrying
// the panic value and stack, and the scope is cancelled at once.
//
// Go is a function rather than a method because methods cannot have type
// parameters.
func Go[T any](s *Scope, fn func(ctx context.Context) (T, error)) *Future[T] {
	t := &task[T]{s: s, fn: fn}
	t.tc, t.ctx.parent = &t.ctx, s.ctx
	if err := s.acquire(); err != nil {
		if s.failFast {
			s.record(err, false)
		}
		var zero T
		t.settle(zero, err) // no callbacks yet
		return &t.Future
	}
	s.wg.Add(1)
	go t.run()
	return &t.Future
}

// A task is a future with what its goroutine needs, in one allocation.
type task[T any] struct {
	Future[T]
	s   *Scope
	fn  func(context.Context) (T, error)
	ctx taskCtx
}

func (t *task[T]) run() {
	s, fn := t.s, t.fn
	t.s, t.fn = nil, nil // the future may outlive the scope; let them go
	defer s.wg.Done()    // last, whatever happens in the defers below
	var v T
	err := errGoexit // stays so only if fn calls runtime.Goexit
	returned, settled := false, false
	defer func() {
		if !settled { // a done-callback called runtime.Goexit
			s.record(errCallbackGoexit, true)
		}
	}()
	defer func() {
		panicked := !returned
		if r := recover(); r != nil {
			err = recovered(r)
		}
		selfCancelled, cause := t.ctx.end()
		if err != nil && !panicked && selfCancelled && (errors.Is(err, context.Canceled) || errors.Is(err, cause)) {
			t.cancelled = true // its own cancellation: not a failure of the scope
		} else if err != nil {
			s.record(err, panicked)
		}
		s.release()
		_, cbErr := t.settle(v, err)
		settled = true
		if cbErr != nil {
			s.record(cbErr, true) // a callback's panic is a panic in the scope
		}
	}()
	v, err = fn(&t.ctx)
	returned = true
}
