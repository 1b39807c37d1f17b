package gather

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// A Scope owns a group of tasks, as asyncio's TaskGroup: tasks are started in
// it with Go, and Wait returns only when every one of them has returned. No
// task outlives its scope, provided its owner calls Wait.
//
// Every scope has a context; each task receives a child of it, which the
// task's Future.Cancel can cancel alone. The scope's context is cancelled,
// and the tasks should then return promptly, at the first of these moments:
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

	mu          sync.Mutex
	panics      []error     // panics of tasks and their done-callbacks, in order
	failures    []error     // real failures, and the caller's cancellation, in order
	byFailure   bool        // the scope's context was cancelled by a failure or a panic
	callerNoted bool        // the caller's cancellation is in failures
	unawaited   []unawaited // KeepGoing: futures of failed tasks
}

// unawaited is a failed future whose error nobody may have retrieved.
type unawaited interface{ unawaitedErr() error }

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
// future and does not cancel the scope. Wait returns it only if nobody
// retrieved it (through Await, Result or a done-callback) by then, so that
// no error goes unseen when futures are dropped. A panic (or a
// runtime.Goexit) in a task still cancels the scope and is always returned
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
// new task starts. It is the owner's own cancellation: if a task then
// returns, or a start is refused, Wait reports context.Canceled. Cancel does
// not wait; call Wait for that.
func (s *Scope) Cancel() { s.cancel(context.Canceled) }

// Wait waits for every task started in the scope to return, then cancels the
// scope's context and returns every failure, or nil:
//
//   - first, the panics of tasks or of their done-callbacks, as
//     *PanicError, and their calls to runtime.Goexit;
//   - then the errors tasks returned, the first failure first (none with
//     KeepGoing, whose failures stay in their futures);
//   - the cancellation of the scope by its parent context or by Cancel, if a
//     task returned or a start was refused after it: the caller always sees
//     its own cancellation, at its place among the failures, as the
//     context's error wrapped with its cause (context.Cause) when the cause
//     is another error, so that errors.Is finds both;
//   - with KeepGoing, the errors of failed tasks that nobody retrieved
//     (through Await, Result or a done-callback) by the time Wait returns.
//
// A single error is returned as it is; several are joined (errors.Join), so
// errors.Is and errors.As find each one. Left out are the cancellations that
// the first failure caused (a task returning context.Canceled, or the cause,
// after the scope was cancelled) and a task's own cancellation (see
// Future.Cancel). Each task's own error is its future's: Result and Await
// return it.
//
// Go must not be called once Wait has returned; tasks of the scope may call
// Go while Wait is waiting.
func (s *Scope) Wait() error {
	s.wg.Wait()
	s.cancel(context.Canceled)
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := slices.Concat(s.panics, s.failures)
	for _, u := range s.unawaited {
		if err := u.unawaitedErr(); err != nil {
			errs = append(errs, err)
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// record notes a task's error (or a refused start's) and cancels the scope
// when the error calls for it. panicked says the task, or a done-callback,
// panicked or called runtime.Goexit; an error a task returned counts as a
// plain error even if it wraps a *PanicError. f is the task's future, nil
// for a refused start.
func (s *Scope) record(err error, panicked bool, f unawaited) {
	if !panicked && s.cancelled() && s.isCancellation(err) {
		return // the scope's cancellation caused it: see ended
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case panicked:
		s.panics = append(s.panics, err)
	case s.failFast:
		s.failures = append(s.failures, err)
	default: // KeepGoing: the future holds it
		if f != nil {
			s.unawaited = append(s.unawaited, f)
		}
		return
	}
	if !s.cancelled() {
		s.byFailure = true
	}
	s.cancel(err) // under mu, so that byFailure says who cancelled
}

// isCancellation reports whether err is a cancellation: what a task returns
// when its context is cancelled.
func (s *Scope) isCancellation(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Cause(s.ctx))
}

// ended is called when a task returns or a start is refused. If the scope
// is cancelled by then, and not by a failure of its own, the caller's
// cancellation is noted, once, in its place among the failures.
func (s *Scope) ended() {
	if !s.cancelled() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byFailure || s.callerNoted {
		return
	}
	s.callerNoted = true
	s.failures = append(s.failures, ctxErr(s.ctx))
}

// ctxErr returns ctx's error, wrapped with its cause when the cause is
// another error, so that errors.Is finds both.
func ctxErr(ctx context.Context) error {
	err := ctx.Err()
	cause := context.Cause(ctx)
	if cause == nil || errors.Is(cause, err) {
		return err
	}
	return fmt.Errorf("%w: %w", err, cause)
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
// whose context was used holds a child context of the scope's (about 120
// bytes): a scope that lives long and starts millions of tasks that use
// their context holds that much per task until it ends, so give such work
// a scope of its own per batch, or use Map, which keeps no finished task.
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
	if err := s.acquire(); err != nil {
		s.ended()
		s.record(err, false, nil)
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
	s  *Scope // kept after the end: the task's context refers to it
	fn func(context.Context) (T, error)
}

func (t *task[T]) run() {
	s, fn := t.s, t.fn
	t.fn = nil // the future may outlive the task; let fn go
	var v T
	err := errGoexit // stays so only if fn calls runtime.Goexit
	returned, settled := false, false
	defer func() { // last, whatever happens in the defer below
		if !settled { // a done-callback called runtime.Goexit
			s.record(errCallbackGoexit, true, nil)
		}
		s.wg.Done()
	}()
	defer func() {
		panicked := !returned
		if r := recover(); r != nil {
			err = recovered(r)
		}
		selfCancelled, cause := t.end()
		if s.cancelled() {
			t.state.Or(stateLate)
			s.ended()
		}
		if err != nil && !panicked && selfCancelled && (errors.Is(err, context.Canceled) || errors.Is(err, cause)) {
			t.state.Or(stateCancelled) // its own cancellation: not a failure of the scope
		} else if err != nil {
			s.record(err, panicked, &t.Future)
		}
		s.release()
		_, cbErr := t.settle(v, err)
		settled = true
		if cbErr != nil {
			s.record(cbErr, true, nil) // a callback's panic is a panic in the scope
		}
	}()
	v, err = fn((*taskContext[T])(t))
	returned = true
}
