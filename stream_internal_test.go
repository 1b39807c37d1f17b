package gather

import (
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Map: unhashable per-key keys, a sequence that calls Goexit, limits near MaxInt.

func TestMapPerKeyUnhashableKeyIsOnePanicResultNotADeadlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inputs := []any{1, 2, []int{3}, 4, 5, 6}
		var panics int
		for r := range MapKeyed(context.Background(), slices.Values(inputs), 2, PerKey(1, func(x any) any { return x }), func(ctx context.Context, x any) (int, error) {
			time.Sleep(10 * time.Millisecond)
			return 0, nil
		}) {
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

func TestMapSequenceGoexitIsRaisedInTheRangingGoroutine(t *testing.T) {
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

func TestMapLimitNearMaxIntDoesNotOverflow(t *testing.T) {
	fn := func(_ context.Context, i int) (int, error) { return i, nil }
	for _, opts := range [][]MapOption{nil, {Ordered(math.MaxInt / 2)}} {
		n := 0
		for range Map(context.Background(), slices.Values([]int{1, 2, 3}), math.MaxInt/2, fn, opts...) {
			n++
		}
		if n != 3 {
			t.Fatalf("%d results", n)
		}
	}
	n := 0
	for range MapKeyed(context.Background(), slices.Values([]int{1, 2, 3}), math.MaxInt/2, PerKey(1, func(i int) int { return i }), fn) {
		n++
	}
	if n != 3 {
		t.Fatalf("MapKeyed: %d results", n)
	}
}
