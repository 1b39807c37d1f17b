package gather

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// An Executor runs CPU-bound functions with bounded parallelism, as
// asyncio's run_in_executor with a process-wide pool: at most its size run at
// once, the rest wait their turn in FIFO order. A burst of CPU-heavy work
// (parsing, hashing, compressing) started from thousands of tasks then runs
// a few at a time instead of all at once: memory stays bounded and each call
// finishes sooner. I/O goroutines keep running meanwhile because Go's
// scheduler preempts CPU-bound code; size an executor below GOMAXPROCS to
// keep processors free for them outright.
//
// The executor owns the functions it runs. A caller whose context ends stops
// waiting, but its function runs on to its end in the executor (CPU-bound
// code rarely watches a context), and its result is dropped. Close stops an
// executor taking work and waits, for as long as its context allows, for
// the functions still running; nothing the executor started outlives a
// Close that returned nil.
type Executor struct {
	slots   chan struct{} // a send takes a slot; waiting senders are served in FIFO order
	size    int
	closing chan struct{} // closed by Close
	shared  bool          // the default executor, which cannot be closed

	mu      sync.Mutex
	closed  bool
	running map[*RunningCall]struct{}
	drained chan struct{} // closed when closed and nothing runs
}

// ErrExecutorClosed is returned by OffloadTo for an executor that Close has
// closed, also to callers that were waiting for a slot when it was closed.
var ErrExecutorClosed = errors.New("gather: executor closed")

// A RunningCall is a function an executor is running, as Close reports it.
type RunningCall struct {
	// Caller is the file:line of the call to Offload, OffloadTo or
	// GoOffload that started the function.
	Caller string
	// Started is when the function started running.
	Started time.Time
}

// StillRunningError is Close's error when its context ends before the
// executor's functions have returned. It says which ones were still running
// at that moment; they go on running.
type StillRunningError struct {
	// Err is the context's error, wrapped with its cause if it has one.
	Err error
	// Running lists the functions still running, oldest first.
	Running []RunningCall
}

// Error says how many functions are still running, and where and when each
// was started.
func (e *StillRunningError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gather: executor still running %d function(s) when the wait ended (%v):", len(e.Running), e.Err)
	for _, r := range e.Running {
		fmt.Fprintf(&b, " started at %s %s ago;", r.Caller, time.Since(r.Started).Round(time.Millisecond))
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Unwrap returns the context's error, so that errors.Is(err,
// context.DeadlineExceeded) holds when the wait timed out.
func (e *StillRunningError) Unwrap() error { return e.Err }

// NewExecutor returns an executor that runs at most n functions at once. n
// must be at least 1.
func NewExecutor(n int) *Executor {
	if n < 1 {
		panic(fmt.Sprintf("gather: NewExecutor(%d): the size must be at least 1", n))
	}
	return &Executor{
		slots:   make(chan struct{}, n),
		size:    n,
		closing: make(chan struct{}),
		running: make(map[*RunningCall]struct{}),
		drained: make(chan struct{}),
	}
}

// Size returns how many functions the executor runs at once.
func (e *Executor) Size() int { return e.size }

var defaultExecutor = sync.OnceValue(func() *Executor {
	e := NewExecutor(runtime.GOMAXPROCS(0))
	e.shared = true
	return e
})

// DefaultExecutor returns the process-wide executor used by Offload, sized to
// GOMAXPROCS at its first use. It is shared by everything in the process
// and cannot be closed.
func DefaultExecutor() *Executor { return defaultExecutor() }

// Close stops the executor taking work: OffloadTo then returns
// ErrExecutorClosed at once, and so do the calls waiting for a slot. Close
// waits for the functions already running to return, and returns nil when
// none is left; when ctx is done first it returns a *StillRunningError
// listing those still running (they run on, and a later Close can wait for
// them again). Close may be called more than once. Closing the default
// executor is refused with an error.
func (e *Executor) Close(ctx context.Context) error {
	if e.shared {
		return errors.New("gather: the default executor is shared and cannot be closed")
	}
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.closing)
		if len(e.running) == 0 {
			close(e.drained)
		}
	}
	e.mu.Unlock()
	select {
	case <-e.drained:
		return nil
	default:
	}
	select {
	case <-e.drained:
		return nil
	case <-ctx.Done():
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.running) == 0 { // the last one returned as ctx ended
		return nil
	}
	err := &StillRunningError{Err: ctxErr(ctx)}
	for r := range e.running {
		err.Running = append(err.Running, *r)
	}
	slices.SortFunc(err.Running, func(a, b RunningCall) int { return a.Started.Compare(b.Started) })
	return err
}

// Offload runs fn on the default executor and returns what it returns. See
// OffloadTo.
func Offload[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	return offload(ctx, defaultExecutor(), fn, "")
}

// OffloadTo waits for a free slot of e and runs fn in it, and returns what fn
// returns. If ctx is done before a slot is free, fn does not run and
// OffloadTo returns ctx's error. If ctx is done while fn runs, OffloadTo
// returns ctx's error at once, and fn runs on to its end in the executor,
// which drops its result (CPU-bound code rarely watches a context; see
// Executor.Close to wait for it). A panic in fn is returned as a
// *PanicError. On a closed executor OffloadTo returns ErrExecutorClosed.
//
// A function whose ctx can never be done (context.Background) runs in the
// calling goroutine.
func OffloadTo[T any](ctx context.Context, e *Executor, fn func() (T, error)) (T, error) {
	return offload(ctx, e, fn, "")
}

// GoOffload starts fn on the executor e as a task of the scope s, and
// returns the task's future: asyncio's loop.run_in_executor, which returns a
// future. It is Go(s, f) with f calling OffloadTo(ctx, e, fn) with the
// task's context, and has both guarantees:
//
//   - The scope owns the future: the task counts against the scope's Limit
//     while it waits for a slot of e and while fn runs, Wait waits for the
//     future and reports its failure, and the future's Cancel cancels it.
//   - The executor owns fn: if the task's context is done (the future's
//     Cancel, the scope cancelled) before fn returns, the future settles at
//     once with the context's error (Cancelled after its own Cancel) and fn
//     runs on to its end in e, which drops its result; Executor.Close waits
//     for it. If the context is done before fn has a slot, fn never runs.
//
// A nil e is the DefaultExecutor. A panic in fn is the future's error as a
// *PanicError, a failure of the task. On a closed executor the future fails
// with ErrExecutorClosed. The RunningCall of fn names the caller of
// GoOffload.
func GoOffload[T any](s *Scope, e *Executor, fn func() (T, error)) *Future[T] {
	if e == nil {
		e = defaultExecutor()
	}
	caller := "?"
	if _, file, line, ok := runtime.Caller(1); ok {
		caller = fmt.Sprintf("%s:%d", file, line)
	}
	return Go(s, func(ctx context.Context) (T, error) { return offload(ctx, e, fn, caller) })
}

type outcome[T any] struct {
	v   T
	err error
}

// offload runs fn in a slot of e. caller names who started it; "" is the
// caller of Offload or OffloadTo, found on the stack.
func offload[T any](ctx context.Context, e *Executor, fn func() (T, error), caller string) (v T, err error) {
	r, err := e.acquire(ctx, caller)
	if err != nil {
		return v, err
	}
	if ctx.Done() == nil { // nothing can end the wait: run here
		defer e.release(r)
		return call(fn)
	}
	ch := make(chan outcome[T], 1)
	go func() {
		defer e.release(r)
		v, err := call(fn)
		ch <- outcome[T]{v, err}
	}()
	select {
	case o := <-ch:
		return o.v, o.err
	case <-ctx.Done():
		select {
		case o := <-ch: // both were ready: the result is there
			return o.v, o.err
		default:
			return v, ctxErr(ctx)
		}
	}
}

// call runs fn, turning a panic into a *PanicError.
func call[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r)
		}
	}()
	return fn()
}

// acquire takes a slot for a call from Offload, OffloadTo or GoOffload and
// registers it as running, started by caller ("": by the caller of Offload or
// OffloadTo).
func (e *Executor) acquire(ctx context.Context, caller string) (*RunningCall, error) {
	select {
	case <-e.closing:
		return nil, ErrExecutorClosed
	default:
	}
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctxErr(ctx)
	case <-e.closing:
		return nil, ErrExecutorClosed
	}
	r := &RunningCall{Caller: caller, Started: time.Now()}
	if caller == "" {
		if _, file, line, ok := runtime.Caller(3); ok { // acquire, offload, Offload or OffloadTo, the caller
			r.Caller = fmt.Sprintf("%s:%d", file, line)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed { // closed while this call took its slot
		<-e.slots
		return nil, ErrExecutorClosed
	}
	if ctx.Err() != nil { // done while this call took its slot
		<-e.slots
		return nil, ctxErr(ctx)
	}
	e.running[r] = struct{}{}
	return r, nil
}

// release gives back r's slot and notes that it no longer runs.
func (e *Executor) release(r *RunningCall) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.running, r)
	<-e.slots
	if e.closed && len(e.running) == 0 {
		close(e.drained)
	}
}
