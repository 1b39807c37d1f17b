package fetch_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
)

// With HTTP2, a server's limit on concurrent streams per connection does
// not serialise the run: past it the client opens more connections. The
// handler holds every request until more than the limit are in flight at
// once (or, if that never happens, for 10 s in all, and the test fails),
// so the outcome does not depend on the machine's speed.
func TestHTTP2OpensConnectionsPastTheStreamLimit(t *testing.T) {
	const streams, conc, n = 100, 400, 2000
	var mu sync.Mutex
	conns := map[string]bool{}
	inFlight, maxInFlight, h1 := 0, 0, 0
	past := make(chan struct{}) // closed once more than streams are in flight
	var once sync.Once
	release := func() { once.Do(func() { close(past) }) }
	giveUp := time.AfterFunc(10*time.Second, release)
	defer giveUp.Stop()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		if r.ProtoMajor != 2 {
			h1++
		}
		inFlight++
		maxInFlight = max(maxInFlight, inFlight)
		if inFlight > streams {
			release()
		}
		mu.Unlock()
		<-past
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	srv.EnableHTTP2 = true
	srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: streams}
	srv.StartTLS()
	defer srv.Close()

	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	client := newClient(t, fetch.Config{Concurrency: conc, HTTP2: true, TLS: &tls.Config{RootCAs: roots}})
	urls := make([]string, n)
	for i := range urls {
		urls[i] = srv.URL + "/" + strconv.Itoa(i)
	}
	for rec := range client.Run(context.Background(), requests(urls...)) {
		if rec.Error != nil || rec.Status != 200 {
			t.Fatalf("line %d: status %d, error %v", rec.Line, rec.Status, rec.Error)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if h1 != 0 {
		t.Errorf("%d requests were not HTTP/2", h1)
	}
	// More than streams at once needs a second connection.
	if len(conns) < 2 || maxInFlight <= streams {
		t.Errorf("%d connections, at most %d requests at once; want several connections and more than %d at once", len(conns), maxInFlight, streams)
	}
	t.Logf("%d connections, at most %d requests at once", len(conns), maxInFlight)
}

// Without HTTP2, the same server is spoken to in HTTP/1.1.
func TestHTTP1ByDefault(t *testing.T) {
	var mu sync.Mutex
	protos := map[int]int{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos[r.ProtoMajor]++
		mu.Unlock()
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	client := newClient(t, fetch.Config{TLS: &tls.Config{RootCAs: roots}})
	for rec := range client.Run(context.Background(), requests(srv.URL+"/a", srv.URL+"/b")) {
		if rec.Error != nil {
			t.Fatal(rec.Error)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if protos[1] != 2 {
		t.Errorf("requests by HTTP major version: %v; want 2 in HTTP/1", protos)
	}
}
