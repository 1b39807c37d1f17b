// Package bench compares gather with its peers: raw goroutines with a
// sync.WaitGroup, golang.org/x/sync/errgroup, github.com/sourcegraph/conc and
// github.com/alitto/pond/v2. It is a module of its own so that the peers
// never become dependencies of gather itself.
//
// Run it with run-core.sh, or:
//
//	go test -run '^$' -bench . -benchmem
package bench

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"testing"

	"github.com/alitto/pond/v2"
	"github.com/gogather/gather"
	"github.com/sourcegraph/conc/pool"
	"github.com/sourcegraph/conc/stream"
	"golang.org/x/sync/errgroup"
)

// streamLimit is the concurrency limit of the streaming benchmarks.
const streamLimit = 64

// maxMapAllocsItems bounds the inputs one BenchmarkMapAllocs case streams in
// all.
const maxMapAllocsItems = 50_000_000

// sumTo returns 0 + 1 + ... + n-1, the sum every StartAwait case must get.
func sumTo(n int) int { return n * (n - 1) / 2 }

// checkSum fails the benchmark when a case lost or corrupted a result. It
// also keeps the compiler from dropping the work that produced sum.
func checkSum(b *testing.B, got, want int) {
	b.Helper()
	if got != want {
		b.Fatalf("sum = %d, want %d", got, want)
	}
}

// BenchmarkStartAwait measures the cost of one task from start to collected
// result, with no limit on concurrency: each op is one task that returns its
// index. All b.N tasks are started, then every result is collected and
// summed, so ns/op, B/op and allocs/op are per task.
func BenchmarkStartAwait(b *testing.B) {
	ctx := context.Background()

	// raw: a goroutine per task writes its result into a slice; a
	// sync.WaitGroup joins them.
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		results := make([]int, b.N)
		var wg sync.WaitGroup
		for i := range b.N {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = i
			}()
		}
		wg.Wait()
		sum := 0
		for _, v := range results {
			sum += v
		}
		checkSum(b, sum, sumTo(b.N))
	})

	// gather: gather.Go in a Scope returns a *Future[int] per task; each
	// future is awaited, then the scope is joined.
	b.Run("gather", func(b *testing.B) {
		b.ReportAllocs()
		s := gather.NewScope(ctx)
		futs := make([]*gather.Future[int], b.N)
		for i := range b.N {
			futs[i] = gather.Go(s, func(context.Context) (int, error) { return i, nil })
		}
		sum := 0
		for _, f := range futs {
			v, err := f.Await(ctx)
			if err != nil {
				b.Fatal(err)
			}
			sum += v
		}
		if err := s.Wait(); err != nil {
			b.Fatal(err)
		}
		checkSum(b, sum, sumTo(b.N))
	})

	// gather-all: gather.All over b.N functions, which returns the values in
	// order. Building the slice of functions is part of the cost.
	b.Run("gather-all", func(b *testing.B) {
		b.ReportAllocs()
		fns := make([]func(context.Context) (int, error), b.N)
		for i := range fns {
			fns[i] = func(context.Context) (int, error) { return i, nil }
		}
		values, err := gather.All(ctx, fns...)
		if err != nil {
			b.Fatal(err)
		}
		sum := 0
		for _, v := range values {
			sum += v
		}
		checkSum(b, sum, sumTo(b.N))
	})

	// errgroup: an errgroup.Group without a limit; each task writes its
	// result into a slice.
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		results := make([]int, b.N)
		var g errgroup.Group
		for i := range b.N {
			g.Go(func() error {
				results[i] = i
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		sum := 0
		for _, v := range results {
			sum += v
		}
		checkSum(b, sum, sumTo(b.N))
	})

	// conc: a conc ResultPool without a limit; Wait returns every result
	// (in no particular order). conc reuses idle worker goroutines.
	b.Run("conc", func(b *testing.B) {
		b.ReportAllocs()
		p := pool.NewWithResults[int]()
		for i := range b.N {
			p.Go(func() int { return i })
		}
		sum := 0
		for _, v := range p.Wait() {
			sum += v
		}
		checkSum(b, sum, sumTo(b.N))
	})

	// pond: a pond ResultPool without a limit; Submit returns a ResultTask
	// per task, and each is waited for. pond reuses worker goroutines.
	b.Run("pond", func(b *testing.B) {
		b.ReportAllocs()
		p := pond.NewResultPool[int](0)
		tasks := make([]pond.ResultTask[int], b.N)
		for i := range b.N {
			tasks[i] = p.Submit(func() int { return i })
		}
		sum := 0
		for _, t := range tasks {
			v, err := t.Wait()
			if err != nil {
				b.Fatal(err)
			}
			sum += v
		}
		p.StopAndWait()
		checkSum(b, sum, sumTo(b.N))
	})
}

// count returns the sequence 0, 1, ..., n-1, generated as it is read: the
// streaming benchmarks never hold their inputs in a slice.
func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// double is the streaming benchmarks' work: trivial, so that what is
// measured is the cost of the machinery.
func double(i int) int { return i * 2 }

// BenchmarkStream measures streaming throughput through a concurrency limit
// of 64 with trivial work: each op is one input i that yields 2*i to the
// consuming goroutine, which sums the results. Inputs come from a counting
// sequence or loop, never from a slice, and at most 64 are in flight, so
// memory does not grow with b.N (except where a case's design buffers).
func BenchmarkStream(b *testing.B) {
	ctx := context.Background()

	// raw: 64 worker goroutines read inputs from a channel and send results
	// to a results channel; the benchmark goroutine sums them.
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		jobs := make(chan int)
		results := make(chan int, streamLimit)
		var wg sync.WaitGroup
		for range streamLimit {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					results <- double(i)
				}
			}()
		}
		go func() {
			for i := range count(b.N) {
				jobs <- i
			}
			close(jobs)
			wg.Wait()
			close(results)
		}()
		sum := 0
		for v := range results {
			sum += v
		}
		checkSum(b, sum, 2*sumTo(b.N))
	})

	// gather: gather.Map over the counting sequence with limit 64, ranged
	// over and summed in the benchmark goroutine.
	b.Run("gather", func(b *testing.B) {
		b.ReportAllocs()
		fn := func(_ context.Context, i int) (int, error) { return double(i), nil }
		sum := 0
		for r := range gather.Map(ctx, count(b.N), streamLimit, fn) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			sum += r.Value
		}
		checkSum(b, sum, 2*sumTo(b.N))
	})

	// gather-scope: a gather Scope with Limit(64); a producer goroutine
	// starts a task per input with gather.Go (each task's future is
	// dropped), and tasks send results to a channel, as in errgroup.
	b.Run("gather-scope", func(b *testing.B) {
		b.ReportAllocs()
		results := make(chan int, streamLimit)
		go func() {
			s := gather.NewScope(ctx, gather.Limit(streamLimit))
			for i := range count(b.N) {
				gather.Go(s, func(context.Context) (struct{}, error) {
					results <- double(i)
					return struct{}{}, nil
				})
			}
			if err := s.Wait(); err != nil {
				panic(err)
			}
			close(results)
		}()
		sum := 0
		for v := range results {
			sum += v
		}
		checkSum(b, sum, 2*sumTo(b.N))
	})

	// errgroup: an errgroup.Group with SetLimit(64); a producer goroutine
	// starts a task per input, and tasks send results to a channel.
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		results := make(chan int, streamLimit)
		go func() {
			var g errgroup.Group
			g.SetLimit(streamLimit)
			for i := range count(b.N) {
				g.Go(func() error {
					results <- double(i)
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				panic(err)
			}
			close(results)
		}()
		sum := 0
		for v := range results {
			sum += v
		}
		checkSum(b, sum, 2*sumTo(b.N))
	})

	// conc: a conc Stream with WithMaxGoroutines(64); each task returns a
	// callback that adds its result, and conc runs the callbacks in input
	// order in its own goroutine (conc's streams are always ordered).
	b.Run("conc", func(b *testing.B) {
		b.ReportAllocs()
		s := stream.New().WithMaxGoroutines(streamLimit)
		sum := 0
		for i := range count(b.N) {
			s.Go(func() stream.Callback {
				v := double(i)
				return func() { sum += v }
			})
		}
		s.Wait()
		checkSum(b, sum, 2*sumTo(b.N))
	})

	// pond: a pond Pool with max concurrency 64 and a queue of 64 (so that
	// submitting blocks, as the others do, instead of queueing every
	// input); a producer goroutine submits a task per input, and tasks send
	// results to a channel.
	b.Run("pond", func(b *testing.B) {
		b.ReportAllocs()
		results := make(chan int, streamLimit)
		go func() {
			p := pond.NewPool(streamLimit, pond.WithQueueSize(streamLimit))
			for i := range count(b.N) {
				if err := p.Go(func() { results <- double(i) }); err != nil {
					panic(err)
				}
			}
			p.StopAndWait()
			close(results)
		}()
		sum := 0
		for v := range results {
			sum += v
		}
		checkSum(b, sum, 2*sumTo(b.N))
	})
}

// BenchmarkMapAllocs measures gather.Map's heap allocations per input, for
// streams of 10k, 100k and 1M inputs through a limit of 64, to show that the
// cost per input does not grow with the stream: memory is bounded by the
// limit, not by the number of inputs. allocs/item stays flat when Map
// allocates per input, and falls as 1/n when it allocates only per stream.
// Each op is a whole stream; the allocs/item metric is the process's heap
// allocations (runtime.MemStats.Mallocs) over all ops, divided by the inputs
// streamed. Run it with a small -benchtime (1x to 3x): one op of the 1M case
// streams a million inputs. It skips itself when b.N would stream more than
// maxMapAllocsItems inputs, as a -benchtime meant for the per-task
// benchmarks (say 200000x) would.
func BenchmarkMapAllocs(b *testing.B) {
	ctx := context.Background()
	fn := func(_ context.Context, i int) (int, error) { return double(i), nil }
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			if total := b.N * n; total > maxMapAllocsItems {
				b.Skipf("%d ops of %d items is %d items: run with -benchtime 1x", b.N, n, total)
			}
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for range b.N {
				sum := 0
				for r := range gather.Map(ctx, count(n), streamLimit, fn) {
					sum += r.Value
				}
				checkSum(b, sum, 2*sumTo(n))
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			items := float64(b.N) * float64(n)
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/items, "allocs/item")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/items, "B/item")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/items, "ns/item")
		})
	}
}
