package fetch_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
)

// Load says what is on the wire and what waits: under load OnWire never
// exceeds the concurrency (inputs read ahead for other hosts wait for a
// slot, and are not counted on the wire), and all is zero at the end.
func TestLoadOnWireNeverExceedsConcurrency(t *testing.T) {
	t.Parallel()
	const conc = 4
	var client *fetch.Client
	var mu sync.Mutex
	var seen []fetch.Load
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, client.Load()) // this request is on the wire
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}))
	defer srv.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	client = newClient(t, fetch.Config{Concurrency: conc, PerHost: 2, ReadAhead: 64})
	var urls []string
	for i := range 100 {
		urls = append(urls, fmt.Sprintf("%s/%d", srv.URL, i), fmt.Sprintf("%s/%d", other.URL, i))
	}
	var most atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			l := client.Load()
			if busy := l.OnWire + l.WaitingRate + l.WaitingRetry; busy > most.Load() {
				most.Store(busy)
			}
			if l.WaitingSlot < 0 || l.WaitingSlot > 200 {
				t.Errorf("waiting for a slot: %d", l.WaitingSlot)
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
	n := 0
	for rec := range client.Run(context.Background(), requests(urls...)) {
		if rec.Error != nil {
			t.Fatal(rec.Error)
		}
		n++
	}
	close(done)
	wg.Wait()
	if n != 200 {
		t.Fatalf("%d records", n)
	}
	if m := most.Load(); m > conc {
		t.Errorf("%d inputs on the wire or waiting with a slot, concurrency %d", m, conc)
	}
	for _, l := range seen {
		if l.OnWire < 1 || l.OnWire > conc {
			t.Fatalf("OnWire %d seen by a server handling a request, concurrency %d", l.OnWire, conc)
		}
	}
	if l := client.Load(); l != (fetch.Load{}) {
		t.Errorf("after the run: %+v", l)
	}
}

// An input waiting out a retry's back-off counts as WaitingRetry; one
// waiting for its rate token as WaitingRate; an early break leaves no
// count behind.
func TestLoadWaitingRetryAndRate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	client := newClient(t, fetch.Config{Retries: 1, RetryBase: 4 * time.Second, RetryMax: 4 * time.Second, Rate: 0.01})
	stop := make(chan struct{})
	var sawRetry, sawRate bool
	go func() {
		defer close(stop)
		for range 20000 { // at most ~20 s
			l := client.Load()
			sawRetry = sawRetry || l.WaitingRetry == 1
			sawRate = sawRate || l.WaitingRate == 1
			if sawRetry || sawRate {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	// The first input is answered 503 and backs off; the rate limit holds
	// the second (and the retry) for 100 s.
	for range client.Run(context.Background(), requests(srv.URL+"/a", srv.URL+"/b"), fetch.StopStarting(stop)) {
	}
	<-stop
	if !sawRetry && !sawRate {
		t.Error("no input seen waiting for a retry or a rate token")
	}
	if l := client.Load(); l != (fetch.Load{}) {
		t.Errorf("after the run: %+v", l)
	}

	// A break with inputs read ahead and waiting for their host.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(10 * time.Millisecond) }))
	defer slow.Close()
	c2 := newClient(t, fetch.Config{Concurrency: 4, PerHost: 1, ReadAhead: 32})
	var urls []string
	for i := range 50 {
		urls = append(urls, fmt.Sprintf("%s/%d", slow.URL, i))
	}
	for range c2.Run(context.Background(), requests(urls...)) {
		break
	}
	if l := c2.Load(); l != (fetch.Load{}) {
		t.Errorf("after a break: %+v", l)
	}
}
