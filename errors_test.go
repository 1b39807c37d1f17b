package gather_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gogather/gather"
)

type codeError struct{ code int }

func (e *codeError) Error() string { return "code error" }

// first returns the first error of a joined error, or err itself.
func first(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()[0]
	}
	return err
}

// Issue 11: no error is silently lost. The first failure comes first, every
// other real failure with it, and the cancellations the first one caused
// are left out.
func TestScopeWaitReportsEveryFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		cleanup := &codeError{7}
		s := gather.NewScope(context.Background())
		gather.Go(s, func(context.Context) (int, error) { time.Sleep(time.Second); return 0, boom })
		gather.Go(s, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, cleanup })
		gather.Go(s, func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() })
		err := s.Wait()
		if first(err) != boom {
			t.Fatalf("Wait = %v, want boom first", err)
		}
		if ce, ok := errors.AsType[*codeError](err); !ok || ce.code != 7 {
			t.Fatalf("Wait = %v, lost the failure during the cleanup", err)
		}
		if errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, reports a cancellation the first failure caused", err)
		}
	})
}

// ExampleScope_Wait, on a loaded machine (it once failed so in CI): every Go
// is followed by a yield, so that a task may run, and fail, before the next
// Go, while other goroutines keep the processors busy. The siblings are
// started before the first failure, as in the example: a Go after it would be
// refused (see TestScopeFailFast), and that sibling would never run nor fail.
// Whatever the interleaving, Wait returns the first failure, then the
// sibling's failure during the cleanup, and no cancellation.
func TestScopeWaitKeepsCleanupFailureUnderLoad(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	stop := make(chan struct{})
	var hogs sync.WaitGroup
	defer hogs.Wait()
	defer close(stop)
	for range 3 {
		hogs.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
				}
			}
		})
	}
	const runs = 1000
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		for i := range runs {
			errDisk := errors.New("disk full")
			s := gather.NewScope(context.Background())
			started := make(chan struct{})
			gather.Go(s, func(context.Context) (int, error) {
				<-started
				return 0, errors.New("quota exceeded")
			})
			runtime.Gosched()
			gather.Go(s, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, errDisk
			})
			runtime.Gosched()
			gather.Go(s, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			})
			if i%2 == 0 {
				close(started)
			} else {
				go close(started)
			}
			err := s.Wait()
			if err == nil || err.Error() != "quota exceeded\ndisk full" || !errors.Is(err, errDisk) ||
				errors.Is(err, context.Canceled) {
				t.Fatalf("GOMAXPROCS %d, run %d: Wait = %q, want quota exceeded, then disk full", procs, i, err)
			}
		}
	}
}

func TestTwoFailuresAtOnceAreBothReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := errors.New("a"), errors.New("b")
		_, err := gather.All(context.Background(),
			func(context.Context) (int, error) { time.Sleep(time.Second); return 0, a },
			func(context.Context) (int, error) { time.Sleep(time.Second); return 0, b },
			sleeper(time.Hour, 3))
		if !errors.Is(err, a) || !errors.Is(err, b) || errors.Is(err, context.Canceled) {
			t.Fatalf("All = %v, want a and b and no cancellation", err)
		}
	})
}

func TestKeepGoingWaitReportsFailuresNobodyAwaited(t *testing.T) {
	lost := &codeError{1}
	seen := errors.New("seen")
	s := gather.NewScope(context.Background(), gather.KeepGoing())
	gather.Go(s, func(context.Context) (int, error) { return 0, lost }) // future dropped
	f := gather.Go(s, func(context.Context) (int, error) { return 0, seen })
	if _, err := f.Await(context.Background()); err != seen {
		t.Fatal(err)
	}
	gather.Go(s, func(context.Context) (int, error) { return 1, nil })
	err := s.Wait()
	if ce, ok := errors.AsType[*codeError](err); !ok || ce != lost {
		t.Fatalf("Wait = %v, want the failure nobody awaited", err)
	}
	if errors.Is(err, seen) {
		t.Fatalf("Wait = %v reports a failure its future handed back", err)
	}
}

// Issue 11: the caller's own cancellation is visible. A cancellation of the
// caller's context before every task has returned is reported.
func TestCallerCancellationIsVisible(t *testing.T) {
	ignoring := func(ctx context.Context) (int, error) { time.Sleep(time.Second); return 42, nil }
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Millisecond, cancel)
		got, err := gather.All(ctx, ignoring)
		if !errors.Is(err, context.Canceled) || got != nil {
			t.Fatalf("All = %v, %v; want the caller's cancellation", got, err)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Millisecond, cancel)
		vals, errs := gather.Settled(ctx, ignoring, func(context.Context) (int, error) { return 1, nil })
		if !errors.Is(errs[0], context.Canceled) || vals[0] != 42 {
			t.Fatalf("Settled = %v, %v; want the caller's cancellation on the call it ended during", vals, errs)
		}
		if errs[1] != nil || vals[1] != 1 {
			t.Fatalf("Settled = %v, %v; a call done before the cancellation keeps its outcome", vals, errs)
		}
	})
	for _, opts := range [][]gather.ScopeOption{nil, {gather.KeepGoing()}} {
		synctest.Test(t, func(t *testing.T) {
			why := errors.New("shutting down")
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(time.Millisecond, func() { cancel(why) })
			s := gather.NewScope(ctx, opts...)
			gather.Go(s, ignoring)
			if err := s.Wait(); !errors.Is(err, context.Canceled) || !errors.Is(err, why) {
				t.Fatalf("Scope.Wait = %v; want the caller's cancellation and its cause", err)
			}
		})
	}
	synctest.Test(t, func(t *testing.T) {
		why := errors.New("shutting down")
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(time.Millisecond, func() { cancel(why) })
		p := gather.NewPromise[int]()
		_, pending, err := gather.Wait(ctx, gather.AllCompleted, p.Future(), gather.Resolved(1, nil))
		if len(pending) != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, why) {
			t.Fatalf("Wait = %d pending, %v; want the caller's cancellation and its cause", len(pending), err)
		}
	})
	// Everything done before the cancellation: the results are there.
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		s := gather.NewScope(ctx)
		f := gather.Go(s, func(context.Context) (int, error) { return 3, nil })
		<-f.Done()
		synctest.Wait()
		cancel()
		if err := s.Wait(); err != nil {
			t.Fatalf("Scope.Wait = %v after every task had returned", err)
		}
	})
}
