package gather_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
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
