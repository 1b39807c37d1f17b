package gather_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gogather/gather"
)

func TestPromiseResolveOnce(t *testing.T) {
	p := gather.NewPromise[string]()
	f := p.Future()
	if _, err := f.Result(); !errors.Is(err, gather.ErrPending) {
		t.Fatalf("Result of a pending future: err = %v, want ErrPending", err)
	}
	select {
	case <-f.Done():
		t.Fatal("Done is closed before the promise is resolved")
	default:
	}
	if err := p.Resolve("first"); err != nil {
		t.Fatalf("first Resolve: %v", err)
	}
	if err := p.Resolve("second"); !errors.Is(err, gather.ErrResolved) {
		t.Fatalf("second Resolve: err = %v, want ErrResolved", err)
	}
	if err := p.Reject(errors.New("late")); !errors.Is(err, gather.ErrResolved) {
		t.Fatalf("Reject after Resolve: err = %v, want ErrResolved", err)
	}
	v, err := f.Result()
	if v != "first" || err != nil {
		t.Fatalf("Result = %q, %v; want the first outcome", v, err)
	}
	<-f.Done()
}

func TestPromiseReject(t *testing.T) {
	p := gather.NewPromise[int]()
	boom := errors.New("boom")
	if err := p.Reject(boom); err != nil {
		t.Fatal(err)
	}
	if err := p.Resolve(1); !errors.Is(err, gather.ErrResolved) {
		t.Fatalf("Resolve after Reject: err = %v, want ErrResolved", err)
	}
	v, err := p.Future().Await(context.Background())
	if v != 0 || !errors.Is(err, boom) {
		t.Fatalf("Await = %d, %v; want 0, boom", v, err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Reject(nil) did not panic")
		}
	}()
	gather.NewPromise[int]().Reject(nil)
}

func TestAwaitManyTimesFromManyGoroutines(t *testing.T) {
	p := gather.NewPromise[int]()
	f := p.Future()
	var wg sync.WaitGroup
	var got atomic.Int64
	for range 50 {
		wg.Go(func() {
			for range 20 {
				v, err := f.Await(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				got.Add(int64(v))
			}
		})
	}
	p.Resolve(1)
	wg.Wait()
	if got.Load() != 50*20 {
		t.Fatalf("waiters saw %d values, want %d", got.Load(), 50*20)
	}
}

func TestAwaitCancelledContextDoesNotCancelTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		f := gather.Go(s, func(ctx context.Context) (string, error) {
			select {
			case <-time.After(time.Second):
				return "finished", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		if _, err := f.Await(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Await with a cancelled context: err = %v, want context.Canceled", err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Fatalf("Await with a cancelled context waited %v", waited)
		}
		timeout, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel2()
		if _, err := f.Await(timeout); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Await past its deadline: err = %v", err)
		}
		v, err := f.Await(context.Background())
		if v != "finished" || err != nil {
			t.Fatalf("the task was disturbed by its waiters: %q, %v", v, err)
		}
		if time.Since(start) != time.Second {
			t.Fatalf("task took %v, want 1s", time.Since(start))
		}
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAwaitDoneFutureWithCancelledContext(t *testing.T) {
	f := gather.Resolved(7, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 100 {
		if v, err := f.Await(ctx); v != 7 || err != nil {
			t.Fatalf("Await of a done future = %d, %v", v, err)
		}
	}
}

func TestOnDoneRunsOnceBeforeAndAfterCompletion(t *testing.T) {
	p := gather.NewPromise[int]()
	f := p.Future()
	var calls []string
	var mu sync.Mutex
	add := func(name string) func(int, error) {
		return func(v int, err error) {
			mu.Lock()
			defer mu.Unlock()
			if v != 42 || err != nil {
				t.Errorf("callback %s got %d, %v", name, v, err)
			}
			calls = append(calls, name)
		}
	}
	f.OnDone(add("before-1"))
	f.OnDone(add("before-2"))
	p.Resolve(42)
	p.Resolve(43) // refused; must not run callbacks again
	f.OnDone(add("after"))
	mu.Lock()
	defer mu.Unlock()
	want := []string{"before-1", "before-2", "after"}
	if len(calls) != len(want) {
		t.Fatalf("callbacks ran %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("callbacks ran %v, want %v", calls, want)
		}
	}
}

func TestOnDoneConcurrentWithResolve(t *testing.T) {
	for range 200 {
		p := gather.NewPromise[int]()
		var n atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { p.Future().OnDone(func(int, error) { n.Add(1) }) })
		}
		wg.Go(func() { p.Resolve(1) })
		wg.Wait()
		if n.Load() != 8 {
			t.Fatalf("%d of 8 callbacks ran", n.Load())
		}
	}
}

func TestOnDoneRemove(t *testing.T) {
	p := gather.NewPromise[int]()
	f := p.Future()
	var ran []string
	add := func(name string) func(int, error) {
		return func(int, error) { ran = append(ran, name) }
	}
	f.OnDone(add("a"))
	removeB := f.OnDone(add("b"))
	f.OnDone(add("c"))
	if !removeB() {
		t.Fatal("removing a pending callback reported false")
	}
	if removeB() {
		t.Fatal("removing it a second time reported true")
	}
	p.Resolve(1)
	if len(ran) != 2 || ran[0] != "a" || ran[1] != "c" {
		t.Fatalf("callbacks ran %v, want [a c]", ran)
	}
	removeD := f.OnDone(add("d")) // done: runs at once
	if removeD() || len(ran) != 3 {
		t.Fatalf("a callback that already ran was removed, or did not run: %v", ran)
	}
}

func TestOnDonePanicGoesToTheResolver(t *testing.T) {
	p := gather.NewPromise[int]()
	f := p.Future()
	var after atomic.Bool
	f.OnDone(func(int, error) { panic("callback bug") })
	f.OnDone(func(v int, _ error) { after.Store(v == 3) })
	err := p.Resolve(3)
	pe, ok := errors.AsType[*gather.PanicError](err)
	if !ok || pe.Value != "callback bug" {
		t.Fatalf("Resolve = %v, want the callback's panic as a *PanicError", err)
	}
	if !after.Load() {
		t.Fatal("the callback after the panicking one did not run")
	}
	if v, err := f.Result(); v != 3 || err != nil {
		t.Fatalf("the future = %d, %v; the callback's panic is not the future's outcome", v, err)
	}
}

func TestOnDonePanicGoesToTheScope(t *testing.T) {
	s := gather.NewScope(context.Background(), gather.KeepGoing())
	release := make(chan struct{})
	f := gather.Go(s, func(context.Context) (int, error) { <-release; return 4, nil })
	var after atomic.Bool
	f.OnDone(func(int, error) { panic("callback bug") })
	f.OnDone(func(int, error) { after.Store(true) })
	close(release)
	err := s.Wait()
	if pe, ok := errors.AsType[*gather.PanicError](err); !ok || pe.Value != "callback bug" {
		t.Fatalf("Wait = %v, want the callback's panic", err)
	}
	if !after.Load() {
		t.Fatal("the callback after the panicking one did not run")
	}
	if v, err := f.Result(); v != 4 || err != nil {
		t.Fatalf("the future = %d, %v", v, err)
	}
}

func TestOnDoneGoexitStillEndsTheTask(t *testing.T) {
	s := gather.NewScope(context.Background(), gather.KeepGoing())
	release := make(chan struct{})
	f := gather.Go(s, func(context.Context) (int, error) { <-release; return 4, nil })
	f.OnDone(func(int, error) { runtimeGoexit() })
	close(release)
	if err := s.Wait(); err == nil || !strings.Contains(err.Error(), "Goexit") {
		t.Fatalf("Wait = %v, want the callback's Goexit", err)
	}
}
