package job

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
)

// benchRecords are records as gather fetch writes them for the local
// upstream, reused by the benchmarks (the record's line need not match).
var benchRecords = func() [][]byte {
	recs := make([][]byte, 4096)
	for i := range recs {
		recs[i] = fmt.Appendf(nil, `{"line":%d,"url":"http://127.0.0.1:18282/item/%d","method":"GET","status":200,"attempts":1,"ms":2.611,"bytes":11,"sha256":"5ac221773db56b0abde4dcfd97cceda821444b4ad711b5f20370623dc82e9e35","content_type":"text/plain; charset=utf-8"}`, i+1, i+1)
	}
	return recs
}()

// benchLine is the line of the i-th result to complete when 64 inputs are
// in flight: lines in order by blocks of 64, shuffled within each block
// (a fixed permutation), as a run at concurrency 64 completes them.
func benchLine(i int) int {
	const block = 64
	return i - i%block + (i%block*37)%block + 1
}

// BenchmarkStore stores b.N results through the writer, as a run does:
// in the order a run at concurrency 64 completes them. cpu-ns/op is the
// process's CPU time (user and system) per result: run it with -cpu 1, as
// gather fetch runs pinned to one core, where the writer's CPU is the
// run's.
func BenchmarkStore(b *testing.B) { benchmarkStore(b, false) }

// BenchmarkStoreTrickle is BenchmarkStore with results coming one at a
// time, as they do in a run, where the run's other goroutines (its
// requests) run between two results: the writer gets to run after each
// (runtime.Gosched), as it does in a run on one core.
func BenchmarkStoreTrickle(b *testing.B) { benchmarkStore(b, true) }

func benchmarkStore(b *testing.B, trickle bool) {
	ctx := context.Background()
	j, err := Open(ctx, filepath.Join(b.TempDir(), "j.db"), testSettings, nil)
	if err != nil {
		b.Fatal(err)
	}
	j.Start(ctx, nil)
	b.ReportAllocs()
	cpu0 := processCPU()
	for i := range b.N {
		r := Result{Line: benchLine(i), OK: true, Host: "http://127.0.0.1:18282", Status: 200, Attempts: 1, MS: 2.611, Bytes: 11,
			Record: benchRecords[i%len(benchRecords)]}
		if err := j.Store(r); err != nil {
			b.Fatal(err)
		}
		if trickle {
			runtime.Gosched()
		}
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	if cpu := processCPU(); cpu > 0 {
		b.ReportMetric(float64(cpu-cpu0)/float64(b.N), "cpu-ns/op")
	}
}
