package gather

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// These tests are in package gather to see how many keys the limiter keeps.

func TestKeyedLimiterDropsIdleKeys(t *testing.T) {
	l := NewKeyedLimiter[string](10, 2)
	ctx := context.Background()
	for i := range 1000 {
		key := fmt.Sprint("host-", i)
		if err := l.Acquire(ctx, key); err != nil {
			t.Fatal(err)
		}
		l.Release(key)
	}
	if n := l.activeKeys(); n != 0 {
		t.Fatalf("%d idle keys kept after every release", n)
	}
	if err := l.Acquire(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := l.Acquire(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if n := l.activeKeys(); n != 1 {
		t.Fatalf("%d keys for one held key", n)
	}
	l.Release("a")
	l.Release("a")
	if n := l.activeKeys(); n != 0 {
		t.Fatalf("%d keys kept", n)
	}
}

func TestKeyedLimiterCancelledWaitHoldsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewKeyedLimiter[string](2, 1)
		ctx := context.Background()
		l.Acquire(ctx, "a")
		l.Acquire(ctx, "b") // global is full now
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := l.Acquire(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiting on a busy key: %v", err)
		}
		if err := l.Acquire(short, "c"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiting on the global limit: %v", err)
		}
		if n := l.activeKeys(); n != 2 {
			t.Fatalf("%d keys after cancelled waits, want the 2 held", n)
		}
		l.Release("a")
		// "c" must get a slot now: the cancelled waits released what they took.
		if err := l.Acquire(ctx, "c"); err != nil {
			t.Fatal(err)
		}
		l.Release("b")
		l.Release("c")
		if n := l.activeKeys(); n != 0 {
			t.Fatalf("%d keys kept", n)
		}
	})
}

func TestKeyedLimiterKeyBeforeGlobal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A hot key with many waiters must not hold global slots while it waits:
		// with global 3 and per key 1, ten callers of "hot" leave two global slots
		// to the other keys.
		l := NewKeyedLimiter[string](3, 1)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if l.Acquire(ctx, "hot") == nil {
					time.Sleep(time.Hour)
					l.Release("hot")
				}
			})
		}
		synctest.Wait()
		start := time.Now()
		for _, k := range []string{"x", "y", "x", "y"} {
			if err := l.Acquire(ctx, k); err != nil {
				t.Fatal(err)
			}
			l.Release(k)
		}
		if time.Since(start) != 0 {
			t.Fatalf("other keys waited %v behind the hot key", time.Since(start))
		}
		cancel()
		wg.Wait()
	})
}

func TestKeyedLimiterReleaseUnknownKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Release of a key never acquired did not panic")
		}
	}()
	NewKeyedLimiter[int](1, 1).Release(3)
}

// FuzzKeyedLimiter drives the limiter with random keys, limits and hold
// times and checks its invariants: no key ever above its limit, never more
// than the global limit in all, every caller served exactly once, no state
// left behind.
func FuzzKeyedLimiter(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(1), uint8(40), uint8(4))
	f.Add(uint64(7), uint8(1), uint8(1), uint8(10), uint8(1))
	f.Add(uint64(42), uint8(8), uint8(3), uint8(100), uint8(12))
	f.Fuzz(func(t *testing.T, seed uint64, global, perKey, callers, keys uint8) {
		g, pk := int(global%16)+1, int(perKey%8)+1
		n, nk := int(callers%200)+1, int(keys%20)+1
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		type call struct {
			key  int
			hold time.Duration
		}
		calls := make([]call, n)
		for i := range calls {
			calls[i] = call{rng.IntN(nk), time.Duration(rng.IntN(5)) * time.Millisecond}
		}
		synctest.Test(t, func(t *testing.T) {
			l := NewKeyedLimiter[int](g, pk)
			var total atomic.Int64
			perKeyNow := make([]atomic.Int64, nk)
			var served atomic.Int64
			var wg sync.WaitGroup
			for _, c := range calls {
				wg.Go(func() {
					if err := l.Acquire(context.Background(), c.key); err != nil {
						t.Error(err)
						return
					}
					if v := total.Add(1); v > int64(g) {
						t.Errorf("%d holders, global limit %d", v, g)
					}
					if v := perKeyNow[c.key].Add(1); v > int64(pk) {
						t.Errorf("key %d has %d holders, limit %d", c.key, v, pk)
					}
					time.Sleep(c.hold)
					perKeyNow[c.key].Add(-1)
					total.Add(-1)
					served.Add(1)
					l.Release(c.key)
				})
			}
			wg.Wait()
			if served.Load() != int64(n) {
				t.Fatalf("%d of %d callers served", served.Load(), n)
			}
			if k := l.activeKeys(); k != 0 {
				t.Fatalf("%d keys left behind", k)
			}
		})
	})
}

// FuzzMapOrderedPerKey runs Map with random delays, keys, limits and windows
// and checks: results in input order, every input exactly once, the global
// and per-key limits never exceeded, and no input started outside the window.
func FuzzMapOrderedPerKey(f *testing.F) {
	f.Add(uint64(3), uint8(2), uint8(3), uint8(1), uint8(50), uint8(3))
	f.Add(uint64(9), uint8(1), uint8(0), uint8(1), uint8(20), uint8(1))
	f.Add(uint64(5), uint8(6), uint8(10), uint8(2), uint8(150), uint8(7))
	f.Fuzz(func(t *testing.T, seed uint64, limit, extraWindow, perKey, inputs, keys uint8) {
		lim, pk := int(limit%8)+1, int(perKey%4)+1
		window := lim + int(extraWindow%16)
		n, nk := int(inputs), int(keys%10)+1
		rng := rand.New(rand.NewPCG(seed, ^seed))
		type in struct {
			index, key int
			delay      time.Duration
		}
		ins := make([]in, n)
		for i := range ins {
			ins[i] = in{i, rng.IntN(nk), time.Duration(rng.IntN(20)) * time.Millisecond}
		}
		seq := func(yield func(in) bool) {
			for _, x := range ins {
				if !yield(x) {
					return
				}
			}
		}
		synctest.Test(t, func(t *testing.T) {
			var total atomic.Int64
			perKeyNow := make([]atomic.Int64, nk)
			var yielded atomic.Int64
			var started sync.Map
			next := 0
			for r := range MapKeyed(context.Background(), seq, lim, PerKey(pk, func(x in) int { return x.key }), func(ctx context.Context, x in) (int, error) {
				if y := yielded.Load(); int64(x.index)-y >= int64(window) {
					t.Errorf("input %d started with %d yielded, window %d", x.index, y, window)
				}
				if v := total.Add(1); v > int64(lim) {
					t.Errorf("%d in progress, limit %d", v, lim)
				}
				if v := perKeyNow[x.key].Add(1); v > int64(pk) {
					t.Errorf("key %d: %d in progress, limit %d", x.key, v, pk)
				}
				time.Sleep(x.delay)
				perKeyNow[x.key].Add(-1)
				total.Add(-1)
				return x.key, nil
			}, Ordered(window)) {
				if r.Index != next {
					t.Fatalf("result %d came when %d was due", r.Index, next)
				}
				if _, dup := started.LoadOrStore(r.Index, true); dup {
					t.Fatalf("input %d yielded twice", r.Index)
				}
				if r.Err != nil || r.Value != ins[r.Index].key {
					t.Fatalf("result %+v", r)
				}
				next++
				yielded.Store(int64(next))
			}
			if next != n {
				t.Fatalf("%d results for %d inputs", next, n)
			}
		})
	})
}

// TestMapWindowBound checks the window invariant directly: an input starts
// only when it is fewer than window places after the oldest result not yet
// yielded.
func TestMapWindowBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit, window = 3, 5
		rng := rand.New(rand.NewPCG(1, 2))
		delays := make([]time.Duration, 200)
		for i := range delays {
			delays[i] = time.Duration(rng.IntN(50)) * time.Millisecond
		}
		var yielded atomic.Int64
		seq := func(yield func(int) bool) {
			for i := range delays {
				if !yield(i) {
					return
				}
			}
		}
		for r := range Map(context.Background(), seq, limit, func(ctx context.Context, i int) (int, error) {
			if y := yielded.Load(); int64(i)-y >= window {
				t.Errorf("input %d started with only %d yielded, window %d", i, y, window)
			}
			time.Sleep(delays[i])
			return i, nil
		}, Ordered(window)) {
			yielded.Store(int64(r.Index) + 1)
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
