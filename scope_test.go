package gather_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gogather/gather"
)

func TestScopeZeroTasks(t *testing.T) {
	s := gather.NewScope(context.Background())
	if err := s.Wait(); err != nil {
		t.Fatalf("Wait of an empty scope: %v", err)
	}
	if s.Context().Err() == nil {
		t.Fatal("the scope's context is still live after Wait")
	}
}

func TestScopeResultsAndWait(t *testing.T) {
	s := gather.NewScope(context.Background())
	var futs []*gather.Future[int]
	for i := range 100 {
		futs = append(futs, gather.Go(s, func(context.Context) (int, error) { return i * i, nil }))
	}
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	for i, f := range futs {
		v, err := f.Result() // done: Wait returned
		if v != i*i || err != nil {
			t.Fatalf("future %d = %d, %v", i, v, err)
		}
	}
}

func panicsWith(v any) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { panic(v) }
}

func TestScopePanicBecomesErrorWithStackAndCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background(), gather.KeepGoing())
		sibling := gather.Go(s, func(ctx context.Context) (int, error) {
			<-ctx.Done() // only a cancelled scope ends this task
			return 0, ctx.Err()
		})
		failed := gather.Go(s, func(context.Context) (int, error) {
			time.Sleep(time.Second)
			panic("kaboom")
		})
		start := time.Now()
		err := s.Wait()
		if time.Since(start) != time.Second {
			t.Fatalf("Wait returned after %v; the panic should cancel the scope at once", time.Since(start))
		}
		pe, ok := errors.AsType[*gather.PanicError](err)
		if !ok {
			t.Fatalf("Wait = %v, want a *PanicError", err)
		}
		if pe.Value != "kaboom" {
			t.Fatalf("panic value = %v", pe.Value)
		}
		if !strings.Contains(string(pe.Stack), "TestScopePanicBecomesErrorWithStackAndCancels") {
			t.Fatalf("the stack does not show where the panic happened:\n%s", pe.Stack)
		}
		if !strings.Contains(err.Error(), "kaboom") || !strings.Contains(err.Error(), "scope_test.go") {
			t.Fatalf("Error() lacks the value or the stack: %s", err)
		}
		if _, ferr := failed.Result(); ferr != err {
			t.Fatalf("the future's error %v is not the scope's %v", ferr, err)
		}
		if _, serr := sibling.Result(); !errors.Is(serr, context.Canceled) {
			t.Fatalf("sibling = %v, want context.Canceled", serr)
		}
	})
}

func TestPanicErrorUnwrapsErrorValues(t *testing.T) {
	sentinel := errors.New("sentinel")
	_, err := gather.All(context.Background(), panicsWith(fmt.Errorf("wrapped: %w", sentinel)))
	if !errors.Is(err, sentinel) {
		t.Fatalf("errors.Is cannot see the error a task panicked with: %v", err)
	}
	_, err = gather.All(context.Background(), panicsWith(nil))
	pe, ok := errors.AsType[*gather.PanicError](err)
	if !ok {
		t.Fatalf("panic(nil) = %v, want a *PanicError", err)
	}
	if _, ok := pe.Value.(error); !ok {
		t.Fatalf("panic(nil) value = %#v, want a runtime.PanicNilError", pe.Value)
	}
}

func TestPanicTakesPrecedenceOverEarlierError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		gather.Go(s, func(context.Context) (int, error) { return 0, errors.New("plain failure") })
		gather.Go(s, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			panic("panic while cancelling")
		})
		if _, ok := errors.AsType[*gather.PanicError](s.Wait()); !ok {
			t.Fatal("Wait did not report the panic")
		}
	})
}

func TestScopeTaskGoexit(t *testing.T) {
	s := gather.NewScope(context.Background(), gather.KeepGoing())
	f := gather.Go(s, func(context.Context) (int, error) {
		// What t.FailNow does in a task: the goroutine exits without returning.
		defer func() {}()
		runtimeGoexit()
		return 1, nil
	})
	err := s.Wait()
	if err == nil || !strings.Contains(err.Error(), "Goexit") {
		t.Fatalf("Wait = %v, want the Goexit error", err)
	}
	if _, ferr := f.Result(); ferr != err {
		t.Fatalf("future = %v, want %v", ferr, err)
	}
}

func TestScopeFailFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		s := gather.NewScope(context.Background())
		var cancelled atomic.Int32
		for range 5 {
			gather.Go(s, func(ctx context.Context) (int, error) {
				select {
				case <-ctx.Done():
					cancelled.Add(1)
					return 0, ctx.Err()
				case <-time.After(time.Hour):
					return 1, nil
				}
			})
		}
		gather.Go(s, func(context.Context) (int, error) {
			time.Sleep(time.Millisecond)
			return 0, boom
		})
		start := time.Now()
		if err := s.Wait(); err != boom {
			t.Fatalf("Wait = %v, want boom", err)
		}
		if time.Since(start) != time.Millisecond || cancelled.Load() != 5 {
			t.Fatalf("after %v, %d of 5 siblings were cancelled", time.Since(start), cancelled.Load())
		}
		if context.Cause(s.Context()) != boom {
			t.Fatalf("the scope's cause is %v, want boom", context.Cause(s.Context()))
		}
		// Cancelled: nothing new starts.
		ran := false
		f := gather.Go(s, func(context.Context) (int, error) { ran = true; return 0, nil })
		if _, err := f.Result(); !errors.Is(err, context.Canceled) || ran {
			t.Fatalf("Go on a cancelled scope: err = %v, ran = %v", err, ran)
		}
	})
}

func TestScopeKeepGoing(t *testing.T) {
	s := gather.NewScope(context.Background(), gather.KeepGoing())
	bad := gather.Go(s, func(context.Context) (int, error) { return 0, errors.New("bad") })
	bad.Await(context.Background()) // retrieved: Wait does not report it again
	good := gather.Go(s, func(ctx context.Context) (int, error) { return 2, ctx.Err() })
	if err := s.Wait(); err != nil {
		t.Fatalf("Wait with KeepGoing = %v, want nil", err)
	}
	if v, err := good.Result(); v != 2 || err != nil {
		t.Fatalf("a task after an error saw %d, %v", v, err)
	}
}

func TestScopeCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := gather.NewScope(ctx, gather.Limit(2))
	var ran atomic.Bool
	f := gather.Go(s, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
	if _, err := f.Result(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Go in a cancelled scope: %v", err)
	}
	if err := s.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
	if ran.Load() {
		t.Fatal("a task ran in a scope cancelled before it started")
	}
}

func TestScopeCancelMidFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		for range 10 {
			gather.Go(s, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			})
		}
		time.Sleep(time.Second)
		s.Cancel()
		start := time.Now()
		if err := s.Wait(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v", err)
		}
		if time.Since(start) != 0 {
			t.Fatal("Wait was not prompt after Cancel")
		}
	})
}

func TestScopeLimitNeverExceeded(t *testing.T) {
	for _, limit := range []int{1, 3, 8} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := gather.NewScope(context.Background(), gather.Limit(limit))
				var running, peak atomic.Int32
				for i := range 40 {
					gather.Go(s, func(context.Context) (int, error) {
						n := running.Add(1)
						for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
						}
						time.Sleep(time.Duration(1+i%3) * time.Second)
						running.Add(-1)
						return i, nil
					})
				}
				if err := s.Wait(); err != nil {
					t.Fatal(err)
				}
				if peak.Load() != int32(limit) {
					t.Fatalf("peak concurrency %d, want exactly %d", peak.Load(), limit)
				}
			})
		})
	}
}

// The conc deadlock (sourcegraph/conc#88): with a limit of N and N tasks that
// only end when the scope is cancelled, the (N+1)th Go waits for a slot. It
// must not wait forever: it watches the scope's context.
func TestScopeBlockedStartWatchesContext(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s := gather.NewScope(ctx, gather.Limit(10))
			var ran atomic.Int32
			var futs []*gather.Future[int]
			for i := range 90 {
				futs = append(futs, gather.Go(s, func(ctx context.Context) (int, error) {
					ran.Add(1)
					if i == 10 {
						return 0, errors.New("I will cancel all other tasks!")
					}
					<-ctx.Done()
					return 0, nil
				}))
			}
			if err := s.Wait(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Wait = %v, want the deadline", err)
			}
			if ran.Load() != 10 {
				t.Fatalf("%d tasks ran, want the 10 that got a slot", ran.Load())
			}
			for _, f := range futs[10:] {
				if _, err := f.Result(); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("a task refused a slot has %v", err)
				}
			}
		})
	})
	t.Run("sibling error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			boom := errors.New("boom")
			s := gather.NewScope(context.Background(), gather.Limit(3))
			for i := range 3 {
				gather.Go(s, func(ctx context.Context) (int, error) {
					if i == 2 {
						time.Sleep(time.Second)
						return 0, boom
					}
					<-ctx.Done()
					return 0, ctx.Err()
				})
			}
			start := time.Now()
			f := gather.Go(s, func(context.Context) (int, error) { return 1, nil }) // blocks: no slot
			if time.Since(start) != time.Second {
				t.Fatalf("the blocked Go returned after %v, want 1s", time.Since(start))
			}
			if _, err := f.Result(); !errors.Is(err, context.Canceled) {
				t.Fatalf("the refused task has %v", err)
			}
			if err := s.Wait(); err != boom {
				t.Fatalf("Wait = %v, want boom", err)
			}
		})
	})
}

func TestScopeGoFromTask(t *testing.T) {
	s := gather.NewScope(context.Background())
	outer := gather.Go(s, func(ctx context.Context) (int, error) {
		inner := gather.Go(s, func(context.Context) (int, error) { return 20, nil })
		v, err := inner.Await(ctx)
		return v + 1, err
	})
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	if v, _ := outer.Result(); v != 21 {
		t.Fatalf("outer = %d", v)
	}
}

func TestLimitRejectsZero(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "at least 1") {
			t.Fatalf("Limit(0) panic = %v", r)
		}
	}()
	gather.Limit(0)
}
