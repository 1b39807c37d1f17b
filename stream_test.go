package gather_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gogather/gather"
)

// count yields 0, 1, ..., n-1; n < 0 means endless.
func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; n < 0 || i < n; i++ {
			if !yield(i) {
				return
			}
		}
	}
}

// gauge tracks how many calls are in progress and the most there ever were.
type gauge struct{ now, peak atomic.Int64 }

func (g *gauge) enter() {
	n := g.now.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
}

func (g *gauge) leave() { g.now.Add(-1) }

func TestMapEveryInputOnceAsCompleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g gauge
		delays := []int{50, 10, 40, 20, 35, 11, 26} // ms; no two end together
		var got []int
		for r := range gather.Map(context.Background(), slices.Values(delays), 3, func(ctx context.Context, d int) (string, error) {
			g.enter()
			defer g.leave()
			time.Sleep(time.Duration(d) * time.Millisecond)
			return fmt.Sprint("slept ", d), nil
		}) {
			if r.Err != nil || r.Input != delays[r.Index] || r.Value != fmt.Sprint("slept ", r.Input) {
				t.Fatalf("result lost track of its input: %+v", r)
			}
			got = append(got, r.Index)
		}
		// t=0 starts 0,1,2; 1 ends at 10 -> 3 (till 30); 3 ends -> 4 (till 65);
		// 2 ends at 40 -> 5 (till 51); 0 ends at 50 -> 6 (till 76); 5, 4, 6 follow.
		want := []int{1, 3, 2, 0, 5, 4, 6}
		if !slices.Equal(got, want) {
			t.Fatalf("completion order %v, want %v", got, want)
		}
		if g.peak.Load() != 3 {
			t.Fatalf("peak %d in progress, want 3", g.peak.Load())
		}
	})
}

func TestMapZeroInputs(t *testing.T) {
	for range gather.Map(context.Background(), count(0), 4, func(context.Context, int) (int, error) { return 0, nil }) {
		t.Fatal("yielded from no inputs")
	}
}

func TestMapErrorsAreResults(t *testing.T) {
	n := 0
	for r := range gather.Map(context.Background(), count(10), 2, func(_ context.Context, i int) (int, error) {
		if i%2 == 1 {
			return 0, fmt.Errorf("odd %d", i)
		}
		return i, nil
	}) {
		n++
		if (r.Err != nil) != (r.Input%2 == 1) {
			t.Fatalf("result %+v", r)
		}
	}
	if n != 10 {
		t.Fatalf("%d results, want 10", n)
	}
}

func TestMapLimitOfOneIsSequential(t *testing.T) {
	var g gauge
	var got []int
	for r := range gather.Map(context.Background(), count(50), 1, func(_ context.Context, i int) (int, error) {
		g.enter()
		defer g.leave()
		return i, nil
	}) {
		got = append(got, r.Value)
	}
	if g.peak.Load() != 1 || !slices.Equal(got, slices.Collect(count(50))) {
		t.Fatalf("limit 1: peak %d, order %v", g.peak.Load(), got)
	}
}

func TestMapBreakCancelsAndJoins(t *testing.T) {
	var g gauge
	var cancelled atomic.Int32
	var started atomic.Int32
	for r := range gather.Map(context.Background(), count(-1), 8, func(ctx context.Context, i int) (int, error) {
		started.Add(1)
		g.enter()
		defer g.leave()
		if i == 0 {
			return 0, nil
		}
		<-ctx.Done()
		cancelled.Add(1)
		return 0, ctx.Err()
	}) {
		if r.Index != 0 {
			t.Fatalf("first result is %d", r.Index)
		}
		break
	}
	// The range statement has returned: everything it started has ended.
	if g.now.Load() != 0 {
		t.Fatalf("%d calls still running after the loop", g.now.Load())
	}
	if cancelled.Load() != started.Load()-1 {
		t.Fatalf("%d started, %d saw their context cancelled", started.Load(), cancelled.Load())
	}
}

func TestMapContextCancelledMidStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancel()
		var started atomic.Int32
		ok, cancelled := 0, 0
		for r := range gather.Map(ctx, count(-1), 4, func(ctx context.Context, i int) (int, error) {
			started.Add(1)
			select {
			case <-time.After(time.Second):
				return i, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}) {
			switch {
			case r.Err == nil:
				ok++
			case errors.Is(r.Err, context.DeadlineExceeded):
				cancelled++
			default:
				t.Fatal(r.Err)
			}
		}
		// 4 at 1s, 4 at 2s; the 4 in progress at 2.5s are cancelled and yielded.
		if ok != 8 || cancelled != 4 || started.Load() != 12 {
			t.Fatalf("%d ok, %d cancelled, %d started; want 8, 4, 12", ok, cancelled, started.Load())
		}
		if time.Since(time.Unix(946684800, 0)) != 2500*time.Millisecond {
			t.Fatalf("the stream ended at %v, want at the deadline", time.Since(time.Unix(946684800, 0)))
		}
	})
}

func TestMapCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for r := range gather.Map(ctx, count(100), 4, func(context.Context, int) (int, error) {
		t.Error("fn ran under a cancelled context")
		return 0, nil
	}) {
		t.Fatalf("yielded %+v", r)
	}
}

func TestMapTaskPanicStopsStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var panics, cancelled, ok int
		for r := range gather.Map(context.Background(), count(-1), 3, func(ctx context.Context, i int) (int, error) {
			if i == 5 {
				panic("bad input 5")
			}
			select {
			case <-time.After(time.Second):
				return i, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}) {
			if pe, isPanic := errors.AsType[*gather.PanicError](r.Err); isPanic {
				if pe.Value != "bad input 5" || r.Input != 5 {
					t.Fatalf("panic result %+v", r)
				}
				panics++
			} else if errors.Is(r.Err, context.Canceled) {
				cancelled++
			} else {
				ok++
			}
		}
		if panics != 1 || cancelled != 2 || ok != 3 {
			t.Fatalf("%d panics, %d cancelled, %d ok; want 1, 2, 3", panics, cancelled, ok)
		}
	})
}

func TestMapSequencePanicIsRaisedInRangingGoroutine(t *testing.T) {
	seq := func(yield func(int) bool) {
		// Input 1 waits for cancellation; the worker done with input 0 reads
		// again and meets the panic, which must cancel input 1.
		for i := range 2 {
			if !yield(i) {
				return
			}
		}
		panic("input reader broke")
	}
	var running gauge
	defer func() {
		r := recover()
		pe, ok := r.(*gather.PanicError)
		if !ok || pe.Value != "input reader broke" || !strings.Contains(string(pe.Stack), "TestMapSequencePanic") {
			t.Fatalf("recovered %v, want the sequence's *PanicError with its stack", r)
		}
		if running.now.Load() != 0 {
			t.Fatal("calls still running after the panic reached the loop")
		}
	}()
	for range gather.Map(context.Background(), seq, 2, func(ctx context.Context, i int) (int, error) {
		running.enter()
		defer running.leave()
		if i == 1 {
			<-ctx.Done()
		}
		return 0, ctx.Err()
	}) {
	}
	t.Fatal("the range loop ended without the sequence's panic")
}

func TestMapOrdered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		delays := []int{5, 1, 1, 1, 1, 1, 1, 1, 1, 1}
		var got []int
		start := time.Now()
		var ends []time.Duration
		for r := range gather.Map(context.Background(), slices.Values(delays), 2, func(ctx context.Context, d int) (int, error) {
			time.Sleep(time.Duration(d) * time.Second)
			return d, nil
		}, gather.Ordered(4)) {
			got = append(got, r.Index)
			ends = append(ends, time.Since(start))
		}
		if !slices.Equal(got, slices.Collect(count(10))) {
			t.Fatalf("ordered results came as %v", got)
		}
		// The 5s head holds the window: inputs 1..3 finish by 3s and wait; input 4
		// cannot start before input 0 is yielded at 5s.
		if ends[0] != 5*time.Second || ends[3] != 5*time.Second || ends[4] != 6*time.Second {
			t.Fatalf("yield times %v", ends)
		}
	})
}

func TestMapOptionsValidation(t *testing.T) {
	fn := func(context.Context, int) (int, error) { return 0, nil }
	cases := map[string]func(){
		"limit 0":          func() { gather.Map(context.Background(), count(1), 0, fn) },
		"window < limit":   func() { gather.Map(context.Background(), count(1), 4, fn, gather.Ordered(3)) },
		"readahead < lim":  func() { gather.Map(context.Background(), count(1), 4, fn, gather.ReadAhead(2)) },
		"per-key limit 0 ": func() { gather.PerKey(0, strings.ToUpper) },
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.HasPrefix(fmt.Sprint(r), "gather: ") {
					t.Fatalf("panic = %v, want a gather: message", r)
				}
			}()
			call()
		})
	}
}

type job struct {
	key   string
	delay time.Duration
}

func TestMapPerKeySlowKeyDoesNotHoldOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var jobs []job
		for range 30 {
			jobs = append(jobs, job{"slow", 10 * time.Second}, job{"fast", time.Second})
		}
		var global gauge
		perKey := map[string]*gauge{"slow": {}, "fast": {}}
		start := time.Now()
		var lastFast, lastSlow time.Duration
		for r := range gather.MapKeyed(context.Background(), slices.Values(jobs), 4, gather.PerKey(2, func(j job) string { return j.key }), func(ctx context.Context, j job) (string, error) {
			global.enter()
			perKey[j.key].enter()
			defer global.leave()
			defer perKey[j.key].leave()
			time.Sleep(j.delay)
			return j.key, nil
		}, gather.ReadAhead(64)) {
			if r.Value == "fast" {
				lastFast = time.Since(start)
			} else {
				lastSlow = time.Since(start)
			}
		}
		if global.peak.Load() != 4 || perKey["slow"].peak.Load() != 2 || perKey["fast"].peak.Load() != 2 {
			t.Fatalf("peaks: global %d, slow %d, fast %d", global.peak.Load(), perKey["slow"].peak.Load(), perKey["fast"].peak.Load())
		}
		// Two slots each: 30 fast jobs of 1s take 15s, 30 slow ones of 10s take 150s.
		if lastFast != 15*time.Second || lastSlow != 150*time.Second {
			t.Fatalf("fast done at %v (want 15s), slow at %v (want 150s)", lastFast, lastSlow)
		}
	})
}

func TestMapPerKeyReadAheadIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var read atomic.Int64
		seq := func(yield func(string) bool) {
			for {
				read.Add(1)
				if !yield("hot") {
					return
				}
			}
		}
		var maxRead int64
		n := 0
		for r := range gather.MapKeyed(context.Background(), seq, 4, gather.PerKey(1, func(k string) string { return k }), func(ctx context.Context, k string) (string, error) {
			time.Sleep(time.Second)
			return k, nil
		}, gather.ReadAhead(10)) {
			_ = r
			// Read so far: those yielded, at most 10 outstanding, one held by the feeder.
			if got := read.Load() - int64(n); got > maxRead {
				maxRead = got
			}
			if n++; n == 20 {
				break
			}
		}
		if maxRead > 12 {
			t.Fatalf("the stream read %d inputs ahead of its results, want at most 10 (+1 held, +1 counting)", maxRead)
		}
	})
}

// TestMapBoundedMemory streams 10 million inputs (1 million under the race
// detector, which makes each goroutine several times dearer) through a limit
// of 8 and checks that the heap stays flat and the limit holds throughout.
func TestMapBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams millions of inputs")
	}
	n := 10_000_000
	if raceEnabled {
		n = 1_000_000
	}
	const limit = 8
	var g gauge
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peakHeap uint64
	seen := 0
	for r := range gather.Map(context.Background(), count(n), limit, func(_ context.Context, i int) (int, error) {
		g.enter()
		defer g.leave()
		return i, nil
	}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		seen++
		if seen%(n/20) == 0 {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
		}
	}
	if seen != n {
		t.Fatalf("%d results for %d inputs", seen, n)
	}
	if g.peak.Load() > limit {
		t.Fatalf("%d calls at once, limit %d", g.peak.Load(), limit)
	}
	// One result per input kept would be 10M*40 B = 400 MB; bounded streaming
	// needs a few KB. 32 MB of growth leaves the GC all the slack it wants.
	if peakHeap > base+32<<20 {
		t.Fatalf("heap in use grew from %d MB to %d MB over %d inputs", base>>20, peakHeap>>20, n)
	}
	t.Logf("%d inputs, limit %d: heap in use %d KB at start, %d KB at most", n, limit, base>>10, peakHeap>>10)
}
