package fetch_test

import (
	"context"
	"io"
	"iter"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// BenchmarkRun fetches b.N URLs from the local upstream, with no added
// latency, 64 at a time, through Client.Run: the engine's overhead per
// request on top of net/http (client and server share the machine).
func BenchmarkRun(b *testing.B) {
	srv := upstreamtest.Start(b, upstream.Config{})
	c, err := fetch.New(fetch.Config{Concurrency: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	base := srv.URL() + "/i/"
	reqs := func(n int) iter.Seq[fetch.Request] {
		return func(yield func(fetch.Request) bool) {
			for i := range n {
				if !yield(fetch.Request{Line: i + 1, URL: base + strconv.Itoa(i)}) {
					return
				}
			}
		}
	}
	// Warm the connection pool.
	for range c.Run(context.Background(), reqs(256)) {
	}
	b.ReportAllocs()
	b.ResetTimer()
	failed := 0
	for r := range c.Run(context.Background(), reqs(b.N)) {
		if r.Error != nil {
			failed++
		}
	}
	b.StopTimer()
	if failed > 0 {
		b.Fatalf("%d of %d failed", failed, b.N)
	}
}

// BenchmarkPlainPool is BenchmarkRun's baseline: 64 goroutines sharing one
// http.Transport, each reading and discarding bodies, against the same
// server. BenchmarkRun's cost above it is the engine's.
func BenchmarkPlainPool(b *testing.B) {
	srv := upstreamtest.Start(b, upstream.Config{})
	tr := &http.Transport{MaxIdleConns: 128, MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	base := srv.URL() + "/i/"
	run := func(n int) int64 {
		urls := make(chan string, 64)
		var failed atomic.Int64
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for u := range urls {
					resp, err := client.Get(u)
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		for i := range n {
			urls <- base + strconv.Itoa(i)
		}
		close(urls)
		wg.Wait()
		return failed.Load()
	}
	run(256)
	b.ReportAllocs()
	b.ResetTimer()
	failed := run(b.N)
	b.StopTimer()
	if failed > 0 {
		b.Fatalf("%d of %d failed", failed, b.N)
	}
}
