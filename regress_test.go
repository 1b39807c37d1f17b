package gather

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Regression tests for defects found in review.

func TestMapUnhashableKeyStopsWithPanicNotDeadlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inputs := []any{1, 2, []int{3}, 4, 5, 6}
		var panics int
		for r := range Map(context.Background(), slices.Values(inputs), 2, func(ctx context.Context, x any) (int, error) {
			time.Sleep(10 * time.Millisecond)
			return 0, nil
		}, PerKey(1, func(x any) any { return x })) {
			if _, ok := errors.AsType[*PanicError](r.Err); ok {
				panics++
				if !strings.Contains(r.Err.Error(), "uncomparable") {
					t.Fatalf("panic %v", r.Err)
				}
			}
		}
		if panics != 1 {
			t.Fatalf("%d panics, want the unhashable key's", panics)
		}
	})
}

func TestKeyedLimiterSurvivesUnhashableKeyAndRefusesNaN(t *testing.T) {
	l := NewKeyedLimiter[any](4, 1)
	func() {
		defer func() { recover() }()
		l.Acquire(context.Background(), []int{1})
	}()
	if err := l.Acquire(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	l.Release(1)
	fl := NewKeyedLimiter[float64](1, 1)
	if err := fl.Acquire(context.Background(), math.NaN()); !errors.Is(err, ErrKeyNotEqual) {
		t.Fatalf("NaN key: %v", err)
	}
	if err := fl.Acquire(context.Background(), 1.5); err != nil {
		t.Fatal("the refused NaN took the only global slot")
	}
	fl.Release(1.5)
}

func TestKeyedLimiterReleaseMoreThanHeldPanics(t *testing.T) {
	l := NewKeyedLimiter[string](2, 2)
	l.Acquire(context.Background(), "a")
	l.Release("a")
	l.Acquire(context.Background(), "a")
	l.Acquire(context.Background(), "a")
	l.Release("a")
	l.Release("a")
	defer func() {
		if recover() == nil {
			t.Fatal("a third Release of two holds did not panic")
		}
	}()
	l.Acquire(context.Background(), "b") // keeps state for "b" alive...
	l.Release("a")                       // ...but "a" has no holder
}

func TestWaitAndAsCompletedLeaveNoWatchers(t *testing.T) {
	p := NewPromise[int]()
	futs := []*Future[int]{p.Future(), Resolved(1, nil)}
	for range 1000 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		Wait(ctx, AllCompleted, futs...)
		for range AsCompleted(context.Background(), futs...) {
			break
		}
	}
	p.f.mu.Lock()
	n := len(p.f.w.Load().watchers)
	p.f.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d watchers left on a pending future", n)
	}
	p.Resolve(2)
}

func TestReturnedPanicErrorIsAPlainError(t *testing.T) {
	wrapped := fmt.Errorf("offloaded: %w", &PanicError{Value: "inner"})
	n := 0
	for r := range Map(context.Background(), slices.Values([]int{0, 1, 2, 3, 4, 5}), 2, func(_ context.Context, i int) (int, error) {
		if i == 1 {
			return 0, wrapped
		}
		return i, nil
	}) {
		n++
		if r.Err != nil && r.Err != wrapped {
			t.Fatalf("result %d: %v", r.Index, r.Err)
		}
	}
	if n != 6 {
		t.Fatalf("%d results: a returned error stopped the stream", n)
	}
	s := NewScope(context.Background(), KeepGoing())
	f := Go(s, func(context.Context) (int, error) { return 0, wrapped })
	f.Await(context.Background()) // retrieved: Wait does not report it again
	if err := s.Wait(); err != nil {
		t.Fatalf("KeepGoing scope returned %v for a returned error", err)
	}
}

func TestMapSequenceGoexitIsRaised(t *testing.T) {
	seq := func(yield func(int) bool) {
		for i := range 3 {
			if !yield(i) {
				return
			}
		}
		runtime.Goexit()
	}
	defer func() {
		if r := recover(); r != errSeqGoexit {
			t.Fatalf("recovered %v, want errSeqGoexit", r)
		}
	}()
	for range Map(context.Background(), seq, 2, func(_ context.Context, i int) (int, error) { return i, nil }) {
	}
	t.Fatal("a sequence that called Goexit looked like a complete one")
}

func TestMapHugeLimits(t *testing.T) {
	for _, opts := range [][]MapOption{nil, {PerKey(1, func(i int) int { return i })}, {Ordered(math.MaxInt / 2)}} {
		n := 0
		for range Map(context.Background(), slices.Values([]int{1, 2, 3}), math.MaxInt/2, func(_ context.Context, i int) (int, error) { return i, nil }, opts...) {
			n++
		}
		if n != 3 {
			t.Fatalf("%d results", n)
		}
	}
}
