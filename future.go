package gather

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
)

// ErrPending is returned by Future.Result when the future is not done yet.
var ErrPending = errors.New("gather: future is not done yet")

// ErrResolved is returned by Promise.Resolve and Promise.Reject when the
// promise was already settled. The first outcome stays; the later one is
// dropped.
var ErrResolved = errors.New("gather: promise already resolved")

// A Future is the eventual outcome of a task: a value and an error, set
// exactly once. Futures are made by Go (a task started now), by NewPromise (a
// future resolved by hand) and by Resolved.
//
// A Future may be awaited any number of times, from any number of
// goroutines; every waiter sees the same value and error. The zero Future is
// not usable.
type Future[T any] struct {
	state atomic.Uint32 // the state bits below; stateDone once value and err are set

	mu sync.Mutex
	// w is made on demand, under mu, by Done, OnDone and AsCompleted and
	// Wait while the future is pending, and by a task's context and Cancel;
	// it stays once made, emptied of its waiters when the future settles.
	w atomic.Pointer[waiters[T]]

	value T     // written once, before state becomes done
	err   error // written once, before state becomes done
}

// waiters is the part of a future that only futures someone waits on need:
// most tasks finish before they are awaited, and their futures stay small.
type waiters[T any] struct {
	done      chan struct{} // closed when the future is done
	callbacks []*callback[T]
	watchers  []watcher // AsCompleted and Wait, removable when they return

	// ext is a task's context and cancellation, made when first needed
	// (see taskContext); nil for futures without a task.
	ext atomic.Pointer[taskExt]
}

// waiters returns f.w, made if needed; f.mu must be held.
func (f *Future[T]) waiters() *waiters[T] {
	w := f.w.Load()
	if w == nil {
		w = &waiters[T]{}
		f.w.Store(w)
	}
	return w
}

// ext returns the task's context and cancellation, or nil.
func (f *Future[T]) ext() *taskExt {
	if w := f.w.Load(); w != nil {
		return w.ext.Load()
	}
	return nil
}

// A callback is one OnDone registration; its address identifies it for
// removal.
type callback[T any] struct {
	fn func(T, error)
}

// A watcher receives an index on a channel whose buffer has room for it.
type watcher struct {
	ch    chan<- int
	index int
}

// The bits of Future.state.
const (
	stateDone        uint32 = 1 << iota // value and err are set
	stateAwaited                        // a failure was handed to someone (Await, Result, a callback)
	stateLate                           // the task ended while its scope was cancelled
	stateNoTask                         // the future has no task: made by NewPromise or Resolved
	stateCancelAsked                    // Cancel was called while the task ran
	stateCancelled                      // the task ended with its own cancellation
)

// closed is the Done channel of every future that was already done when
// Done was first called.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// newFuture returns a pending future without a task.
func newFuture[T any]() *Future[T] {
	f := &Future[T]{}
	f.state.Store(stateNoTask)
	return f
}

// Resolved returns a future that is already done with v and err.
func Resolved[T any](v T, err error) *Future[T] {
	f := newFuture[T]()
	f.settle(v, err) // no callbacks yet
	return f
}

// settle records the outcome, wakes the waiters and runs the callbacks in the
// calling goroutine. It reports false, and changes nothing, when the future
// was already settled. A callback that panics does not stop the others: the
// panics are returned, as *PanicError, in cbErr (joined if there are
// several), for the caller to hand to the future's owner.
func (f *Future[T]) settle(v T, err error) (ok bool, cbErr error) {
	f.mu.Lock()
	if f.isDone() {
		f.mu.Unlock()
		return false, nil
	}
	f.value, f.err = v, err
	f.state.Or(stateDone)
	w := f.w.Load()
	if w == nil {
		f.mu.Unlock()
		return true, nil
	}
	done, watchers, callbacks := w.done, w.watchers, w.callbacks
	w.done, w.watchers, w.callbacks = nil, nil, nil
	f.mu.Unlock()
	if done != nil {
		close(done)
	}
	if err != nil && len(callbacks) > 0 {
		f.state.Or(stateAwaited)
	}
	for _, wt := range watchers {
		wt.ch <- wt.index // never blocks: the buffer has room for every watched future
	}
	var panics []error
	for _, cb := range callbacks {
		if p := runCallback(cb.fn, v, err); p != nil {
			panics = append(panics, p)
		}
	}
	if len(panics) == 1 {
		return true, panics[0]
	}
	return true, errors.Join(panics...)
}

// runCallback calls cb and returns its panic, if any, as a *PanicError.
func runCallback[T any](cb func(T, error), v T, err error) (p error) {
	defer func() {
		if r := recover(); r != nil {
			p = recovered(r)
		}
	}()
	cb(v, err)
	return nil
}

// errCallbackGoexit is a scope's error when a done-callback of one of its
// tasks called runtime.Goexit: the goroutine settling the future exited
// there, and the callbacks after it did not run.
var errCallbackGoexit = errors.New("gather: a done-callback called runtime.Goexit")

// Await waits until the future is done and returns its value and error, or
// until ctx is done and returns ctx.Err(). A done future is returned at once,
// even when ctx is already cancelled.
//
// Await never cancels the task behind the future: giving up waiting is the
// waiter's business. To stop tasks, cancel their Scope.
func (f *Future[T]) Await(ctx context.Context) (T, error) {
	if f.isDone() {
		return f.value, f.awaited()
	}
	select {
	case <-f.Done():
		return f.value, f.awaited()
	case <-ctx.Done():
		if f.isDone() { // both were ready; the select chose at random
			return f.value, f.awaited()
		}
		var zero T
		return zero, ctxErr(ctx)
	}
}

// Done returns a channel that is closed when the future is done, for use in
// select statements.
func (f *Future[T]) Done() <-chan struct{} {
	if f.isDone() {
		return closed
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.isDone() {
		return closed
	}
	w := f.waiters()
	if w.done == nil {
		w.done = make(chan struct{})
	}
	return w.done
}

func (f *Future[T]) isDone() bool { return f.state.Load()&stateDone != 0 }

// awaited returns f.err, noting that a failure was handed to someone.
func (f *Future[T]) awaited() error {
	if f.err != nil && f.state.Load()&stateAwaited == 0 {
		f.state.Or(stateAwaited)
	}
	return f.err
}

// unawaitedErr returns the future's error if nobody was handed it.
func (f *Future[T]) unawaitedErr() error {
	if f.state.Load()&stateAwaited != 0 {
		return nil
	}
	return f.err
}

// Result returns the value and error of a done future without waiting. When
// the future is not done yet it returns ErrPending.
func (f *Future[T]) Result() (T, error) {
	if f.isDone() {
		return f.value, f.awaited()
	}
	var zero T
	return zero, ErrPending
}

// OnDone arranges for cb to be called once with the future's value and
// error, as asyncio's add_done_callback. If the future is already done, cb
// runs at once in the calling goroutine; otherwise it runs in the goroutine
// that settles the future, after the waiters are released, in the order the
// callbacks were added.
//
// Callbacks should be short and must not block: they delay the goroutine
// that settles the future. A callback that panics there does not stop the
// other callbacks; its panic goes, as a *PanicError, to the future's owner:
// the Wait of the scope of a task started by Go (which also cancels the
// scope, as a task's panic does), or the caller of Promise.Resolve or
// Promise.Reject. A callback run at once by OnDone panics in its caller.
//
// remove takes cb off the future, as asyncio's remove_done_callback: it
// reports whether cb was removed before it ran; after it ran, or a second
// time, remove does nothing and reports false.
func (f *Future[T]) OnDone(cb func(T, error)) (remove func() bool) {
	f.mu.Lock()
	if !f.isDone() {
		w := f.waiters()
		c := &callback[T]{fn: cb}
		w.callbacks = append(w.callbacks, c)
		f.mu.Unlock()
		return func() bool { return f.removeCallback(c) }
	}
	f.mu.Unlock()
	cb(f.value, f.awaited())
	return ranAlready
}

func ranAlready() bool { return false }

// removeCallback removes c if the future is still pending.
func (f *Future[T]) removeCallback(c *callback[T]) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.w.Load()
	if w == nil {
		return false
	}
	i := slices.Index(w.callbacks, c) // emptied when the future settled
	if i < 0 {
		return false
	}
	w.callbacks = slices.Delete(w.callbacks, i, i+1)
	return true
}

// watch arranges for index to be sent on ch when the future is done, at once
// if it is done already. ch's buffer must have room for it.
func (f *Future[T]) watch(ch chan<- int, index int) {
	f.mu.Lock()
	if !f.isDone() {
		w := f.waiters()
		w.watchers = append(w.watchers, watcher{ch, index})
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	ch <- index
}

// unwatch removes what watch(ch, ...) added, if the future is still pending.
func (f *Future[T]) unwatch(ch chan<- int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.w.Load()
	if w == nil {
		return
	}
	kept := w.watchers[:0]
	for _, wt := range w.watchers {
		if wt.ch != ch {
			kept = append(kept, wt)
		}
	}
	clear(w.watchers[len(kept):])
	w.watchers = kept
}

// Cancel cancels the context of the task behind the future, with cause
// (context.Canceled when nil; recovered in the task with context.Cause), as
// asyncio's task.cancel(msg). It reports whether the task was still running:
// false once the future is done, and for futures not started by Go, which
// have no task to cancel. Cancelling twice keeps the first cause.
//
// Cancel only asks: the task stops when its function returns. If it returns
// an error that is its cancellation (errors.Is context.Canceled or the
// cause), the future is recorded as cancelled (see Cancelled): that is not a
// failure of the scope, which goes on and does not cancel the other tasks,
// and Scope.Wait does not report it. If it returns a value anyway, the value
// is kept; if it returns another error, that is a failure like any other.
//
// Only the task's own context is cancelled, a child of the scope's: the
// scope and its other tasks are not.
func (f *Future[T]) Cancel(cause error) bool {
	if f.state.Load()&stateNoTask != 0 {
		return false
	}
	if cause == nil {
		cause = context.Canceled
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.state.Load()
	if st&stateDone != 0 {
		return false
	}
	if st&stateCancelAsked == 0 {
		f.state.Or(stateCancelAsked)
		if x := f.ext(); x != nil {
			x.cancel(cause)
		} else {
			f.waiters().ext.Store(&taskExt{cause: cause}) // the context, if ever made, starts cancelled
		}
	}
	return true
}

// Cancelled reports whether the future is done and its task ended with the
// cancellation its own Cancel caused. The future's error is then what the
// task returned, context.Canceled or the cause.
func (f *Future[T]) Cancelled() bool {
	return f.state.Load()&(stateDone|stateCancelled) == stateDone|stateCancelled
}

// failed reports whether the future is done with an error other than its
// own cancellation (see Cancel): what FirstException waits for.
func (f *Future[T]) failed() bool { return f.isDone() && f.err != nil && !f.Cancelled() }

// A Promise is the write side of a future resolved by hand, as asyncio's
// Future() with set_result and set_exception. The first Resolve or Reject
// settles the future; any later one returns ErrResolved and changes nothing.
//
// Hand the Future to readers and keep the Promise, so that only its owner can
// settle it.
type Promise[T any] struct {
	f *Future[T]
}

// NewPromise returns a promise whose future is pending until the promise is
// resolved or rejected.
func NewPromise[T any]() *Promise[T] {
	return &Promise[T]{f: newFuture[T]()}
}

// Future returns the future the promise settles.
func (p *Promise[T]) Future() *Future[T] { return p.f }

// Resolve settles the future with the value v and a nil error. It returns
// ErrResolved if the future was already settled. If a done-callback panics,
// the future is settled all the same, the other callbacks run, and Resolve
// returns the panic as a *PanicError.
func (p *Promise[T]) Resolve(v T) error {
	ok, cbErr := p.f.settle(v, nil)
	if !ok {
		return ErrResolved
	}
	return cbErr
}

// Reject settles the future with err, which must not be nil, and the zero
// value. It returns ErrResolved if the future was already settled, and a
// done-callback's panic as Resolve does.
func (p *Promise[T]) Reject(err error) error {
	if err == nil {
		panic("gather: Promise.Reject with a nil error")
	}
	var zero T
	ok, cbErr := p.f.settle(zero, err)
	if !ok {
		return ErrResolved
	}
	return cbErr
}
