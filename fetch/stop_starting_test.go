package fetch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
)

// An input waiting for a retry (here a Retry-After of 5s) or for its rate
// limit ends as soon as StopStarting's channel closes, not when its wait
// is over, and keeps its last attempt's status.
func TestStopDuringRetryAfter(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(503)
	}))
	defer srv.Close()
	client := newClient(t, fetch.Config{Retries: 3})
	stop := closeAfterFirst(&n)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for rec := range client.Run(ctx, requests(srv.URL), fetch.StopStarting(stop)) {
		if rec.Attempts != 1 || rec.Status != 503 || rec.Error == nil || rec.Error.Kind != fetch.KindCanceled || n.Load() != 1 {
			t.Errorf("stopped before a retry: attempts %d, status %d, error %+v, %d requests; want the 503 kept, canceled, 1 request", rec.Attempts, rec.Status, rec.Error, n.Load())
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Run ended %v after start; stop was closed at ~50ms", d.Round(time.Millisecond))
	}
}

func TestStopDuringRateWait(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1) }))
	defer srv.Close()
	client := newClient(t, fetch.Config{Rate: 0.2}) // one request per 5s
	stop := closeAfterFirst(&n)
	start := time.Now()
	fetched, canceled := 0, 0
	// Both inputs start at once: either may take the first rate token.
	for rec := range client.Run(context.Background(), requests(srv.URL+"/1", srv.URL+"/2"), fetch.StopStarting(stop)) {
		switch {
		case rec.Error == nil && rec.Attempts == 1:
			fetched++
		case rec.Error != nil && rec.Error.Kind == fetch.KindCanceled && rec.Attempts == 0:
			canceled++
		default:
			t.Errorf("line %d: attempts %d, error %+v; want fetched, or canceled unsent", rec.Line, rec.Attempts, rec.Error)
		}
	}
	if fetched != 1 || canceled != 1 {
		t.Errorf("%d fetched, %d canceled; want one of each", fetched, canceled)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests sent, want 1", n.Load())
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Run ended %v after start; stop was closed at ~50ms", d.Round(time.Millisecond))
	}
}

// closeAfterFirst returns a channel closed 50ms after n first counts a
// request.
func closeAfterFirst(n *atomic.Int32) chan struct{} {
	stop := make(chan struct{})
	go func() {
		for n.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		close(stop)
	}()
	return stop
}
