package gather

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sync/semaphore"
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
// An Executor has no goroutines of its own: a function runs in the calling
// goroutine once a slot is free, so nothing is left running when callers
// return.
type Executor struct {
	slots *semaphore.Weighted
	size  int
}

// NewExecutor returns an executor that runs at most n functions at once. n
// must be at least 1.
func NewExecutor(n int) *Executor {
	if n < 1 {
		panic(fmt.Sprintf("gather: NewExecutor(%d): the size must be at least 1", n))
	}
	return &Executor{slots: semaphore.NewWeighted(int64(n)), size: n}
}

// Size returns how many functions the executor runs at once.
func (e *Executor) Size() int { return e.size }

var defaultExecutor = sync.OnceValue(func() *Executor { return NewExecutor(runtime.GOMAXPROCS(0)) })

// DefaultExecutor returns the process-wide executor used by Offload, sized to
// GOMAXPROCS at its first use.
func DefaultExecutor() *Executor { return defaultExecutor() }

// Offload runs fn on the default executor and returns what it returns. See
// OffloadTo.
func Offload[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	return OffloadTo(ctx, defaultExecutor(), fn)
}

// OffloadTo waits for a free slot of e and runs fn in it. If ctx is done before a
// slot is free, fn does not run and OffloadTo returns ctx.Err(); once fn has
// started it runs to its end (CPU-bound code rarely watches a context). A
// panic in fn is returned as a *PanicError.
func OffloadTo[T any](ctx context.Context, e *Executor, fn func() (T, error)) (v T, err error) {
	if err := e.slots.Acquire(ctx, 1); err != nil {
		return v, err
	}
	defer e.slots.Release(1)
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r)
		}
	}()
	return fn()
}
