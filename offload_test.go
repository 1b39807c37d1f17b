package gather_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gogather/gather"
)

func TestOffloadBoundsParallelism(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := gather.NewExecutor(2)
		var g gauge
		_, err := gather.All(context.Background(), func() []func(context.Context) (int, error) {
			var fns []func(context.Context) (int, error)
			for i := range 10 {
				fns = append(fns, func(ctx context.Context) (int, error) {
					return gather.OffloadTo(ctx, e, func() (int, error) {
						g.enter()
						defer g.leave()
						time.Sleep(time.Second)
						return i, nil
					})
				})
			}
			return fns
		}()...)
		if err != nil {
			t.Fatal(err)
		}
		if g.peak.Load() != 2 {
			t.Fatalf("peak %d, executor size 2", g.peak.Load())
		}
	})
}

func TestOffloadCancelledWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := gather.NewExecutor(1)
		release := make(chan struct{})
		go gather.OffloadTo(context.Background(), e, func() (int, error) { <-release; return 0, nil })
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ran := false
		if _, err := gather.OffloadTo(ctx, e, func() (int, error) { ran = true; return 0, nil }); !errors.Is(err, context.DeadlineExceeded) || ran {
			t.Fatalf("err = %v, ran = %v", err, ran)
		}
		close(release)
	})
}

func TestOffloadPanic(t *testing.T) {
	_, err := gather.Offload(context.Background(), func() (int, error) { panic("cpu bug") })
	if pe, ok := errors.AsType[*gather.PanicError](err); !ok || pe.Value != "cpu bug" {
		t.Fatalf("err = %v", err)
	}
	// The slot was given back.
	if v, err := gather.Offload(context.Background(), func() (int, error) { return 1, nil }); v != 1 || err != nil {
		t.Fatal(v, err)
	}
}

// While the default executor is saturated with CPU-bound work, and more of
// it is queued, HTTP requests on 127.0.0.1 still complete.
func TestOffloadLeavesIOFlowing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	size := gather.DefaultExecutor().Size() // GOMAXPROCS at its first use
	var stop atomic.Bool
	var cpu gauge
	var finished atomic.Int32
	var wg sync.WaitGroup
	for range 4 * size {
		wg.Go(func() {
			gather.Offload(context.Background(), func() (int, error) {
				cpu.enter()
				defer cpu.leave()
				x := 0
				for !stop.Load() {
					x++ // spin: pure CPU until the I/O is done
				}
				finished.Add(1)
				return x, nil
			})
		})
	}
	for cpu.now.Load() < int64(size) {
		runtime.Gosched()
	}
	for i := range 20 {
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := finished.Load(); n != 0 {
		t.Fatalf("%d CPU tasks finished before the I/O did", n)
	}
	if cpu.peak.Load() != int64(size) {
		t.Fatalf("%d CPU tasks ran at once, executor size %d", cpu.peak.Load(), size)
	}
	stop.Store(true)
	wg.Wait()
	srv.Client().CloseIdleConnections()
}

// Issue 11: waiting for offloaded work ends when the caller's context ends;
// the function runs on in the executor, which owns it.
func TestOffloadReturnsWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := gather.NewExecutor(1)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		var finished atomic.Bool
		start := time.Now()
		v, err := gather.OffloadTo(ctx, e, func() (int, error) {
			time.Sleep(time.Second)
			finished.Store(true)
			return 1, nil
		})
		if !errors.Is(err, context.DeadlineExceeded) || v != 0 || time.Since(start) != 100*time.Millisecond {
			t.Fatalf("OffloadTo = %d, %v after %v; want the deadline at 100ms", v, err, time.Since(start))
		}
		if err := e.Close(context.Background()); err != nil || !finished.Load() || time.Since(start) != time.Second {
			t.Fatalf("Close = %v after %v, finished %v; want it to wait for the function", err, time.Since(start), finished.Load())
		}
	})
}

func TestExecutorClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := gather.NewExecutor(1)
		release := make(chan struct{})
		go func() { gather.OffloadTo(context.Background(), e, func() (int, error) { <-release; return 0, nil }) }()
		synctest.Wait()
		queued := make(chan error)
		go func() {
			_, err := gather.OffloadTo(context.Background(), e, func() (int, error) { return 0, nil })
			queued <- err
		}()
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := e.Close(ctx)
		sre, ok := errors.AsType[*gather.StillRunningError](err)
		if !ok || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close = %v, want a *StillRunningError and the deadline", err)
		}
		if len(sre.Running) != 1 || !strings.Contains(sre.Running[0].Caller, "offload_test.go") || sre.Running[0].Started.IsZero() {
			t.Fatalf("still running: %+v, want the one call, from this file", sre.Running)
		}
		if err := <-queued; !errors.Is(err, gather.ErrExecutorClosed) {
			t.Fatalf("a call waiting for a slot at Close = %v, want ErrExecutorClosed", err)
		}
		ran := false
		if _, err := gather.OffloadTo(context.Background(), e, func() (int, error) { ran = true; return 0, nil }); !errors.Is(err, gather.ErrExecutorClosed) || ran {
			t.Fatalf("OffloadTo after Close = %v, ran %v", err, ran)
		}
		close(release)
		if err := e.Close(context.Background()); err != nil {
			t.Fatalf("second Close = %v", err)
		}
	})
	// Outside the bubble: the default executor is made once per process.
	if err := gather.DefaultExecutor().Close(context.Background()); err == nil {
		t.Fatal("the default executor, shared by every Offload, was closed")
	}
}

func TestGoOffloadFutureBelongsToTheScope(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := gather.NewExecutor(1)
		s := gather.NewScope(context.Background())
		started, release := make(chan struct{}), make(chan struct{})
		defer close(release) // after a failure too: no goroutine left blocked
		first := gather.GoOffload(s, e, func() (int, error) { close(started); <-release; return 1, nil })
		<-started // first holds the executor's only slot
		var ranSecond atomic.Bool
		second := gather.GoOffload(s, e, func() (int, error) { ranSecond.Store(true); return 2, nil })
		synctest.Wait()
		if ranSecond.Load() {
			t.Fatal("the second function ran while the executor's only slot was taken")
		}
		release <- struct{}{} // first returns
		if err := s.Wait(); err != nil {
			t.Fatalf("Wait = %v", err)
		}
		if v, err := first.Result(); v != 1 || err != nil {
			t.Fatalf("first = %d, %v", v, err)
		}
		if v, err := second.Result(); v != 2 || err != nil {
			t.Fatalf("second = %d, %v", v, err)
		}
		if err := e.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// A nil executor is the default one. (Not inside a synctest bubble: the
// default executor is made once per process, and would belong to the
// bubble that made it.)
func TestGoOffloadOnTheDefaultExecutor(t *testing.T) {
	s := gather.NewScope(context.Background())
	def := gather.GoOffload(s, nil, func() (string, error) { return "default", nil })
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	if v, err := def.Result(); v != "default" || err != nil {
		t.Fatalf("on the default executor = %q, %v", v, err)
	}
}

func TestGoOffloadCancelLeavesTheFunctionToTheExecutor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := gather.NewExecutor(1)
		s := gather.NewScope(context.Background())
		started, release := make(chan struct{}), make(chan struct{})
		var finished atomic.Bool
		f := gather.GoOffload(s, e, func() (int, error) {
			close(started)
			<-release
			finished.Store(true)
			return 1, nil
		})
		<-started
		cause := errors.New("not needed")
		if !f.Cancel(cause) {
			t.Fatal("Cancel found the task already ended")
		}
		if _, err := f.Await(context.Background()); !errors.Is(err, cause) || !f.Cancelled() {
			t.Fatalf("Await = %v, cancelled %v; want the cause, cancelled", err, f.Cancelled())
		}
		if err := s.Wait(); err != nil {
			t.Fatalf("Wait = %v; a cancelled task is not a failure", err)
		}
		if finished.Load() {
			t.Fatal("the function ended before its release")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		sre, ok := errors.AsType[*gather.StillRunningError](e.Close(ctx))
		if !ok || len(sre.Running) != 1 || !strings.Contains(sre.Running[0].Caller, "offload_test.go") {
			t.Fatalf("Close = %v; want the function still running, started from this file", sre)
		}
		close(release)
		if err := e.Close(context.Background()); err != nil || !finished.Load() {
			t.Fatalf("Close = %v, finished %v; want it to wait for the function", err, finished.Load())
		}
	})
}

func TestGoOffloadPanicAndClosedExecutorFailTheFuture(t *testing.T) {
	e := gather.NewExecutor(1)
	s := gather.NewScope(context.Background(), gather.KeepGoing())
	p := gather.GoOffload(s, e, func() (int, error) { panic("cpu bug") })
	if _, err := p.Await(context.Background()); err == nil {
		t.Fatal("a panicking function resolved its future")
	} else if pe, ok := errors.AsType[*gather.PanicError](err); !ok || pe.Value != "cpu bug" {
		t.Fatalf("Await = %v, want a *PanicError", err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := gather.GoOffload(s, e, func() (int, error) { return 1, nil })
	if _, err := c.Await(context.Background()); !errors.Is(err, gather.ErrExecutorClosed) {
		t.Fatalf("on a closed executor: %v, want ErrExecutorClosed", err)
	}
	if err := s.Wait(); err != nil {
		t.Fatalf("Wait = %v; both failures were retrieved", err)
	}
}
