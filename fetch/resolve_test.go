package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A thousand concurrent dials to one host name do one real lookup.
func TestResolverCachesAndMergesLookups(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	r := newResolver(time.Second)
	var lookups atomic.Int32
	real := r.lookup
	r.lookup = func(ctx context.Context, host string) ([]string, error) {
		lookups.Add(1)
		time.Sleep(20 * time.Millisecond) // a slow resolver: concurrent callers pile up
		addrs, err := real(ctx, host)
		// Keep IPv4 only: the test server listens on 127.0.0.1.
		var v4 []string
		for _, a := range addrs {
			if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
				v4 = append(v4, a)
			}
		}
		return v4, err
	}
	dial := r.dialContext((&net.Dialer{}).DialContext)
	var wg sync.WaitGroup
	var failures atomic.Int32
	for range 1000 {
		wg.Go(func() {
			conn, err := dial(context.Background(), "tcp", net.JoinHostPort("localhost", port))
			if err != nil {
				failures.Add(1)
				return
			}
			conn.Close()
		})
	}
	wg.Wait()
	if failures.Load() != 0 || lookups.Load() != 1 {
		t.Fatalf("%d failed dials, %d lookups; want 0 and 1", failures.Load(), lookups.Load())
	}
}

func TestResolverFailureIsDNSKindAndCachedBriefly(t *testing.T) {
	r := newResolver(time.Second)
	var lookups atomic.Int32
	r.lookup = func(ctx context.Context, host string) ([]string, error) {
		lookups.Add(1)
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	dial := r.dialContext((&net.Dialer{}).DialContext)
	for range 3 {
		_, err := dial(context.Background(), "tcp", "nowhere.invalid:80")
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || classify(context.Background(), err) != KindDNS {
			t.Fatalf("err = %v", err)
		}
	}
	if lookups.Load() != 1 {
		t.Fatalf("%d lookups of a failing host within its negative TTL", lookups.Load())
	}
}

func TestResolverWaitWatchesContext(t *testing.T) {
	r := newResolver(time.Second)
	release := make(chan struct{})
	r.lookup = func(ctx context.Context, host string) ([]string, error) {
		<-release
		return []string{"127.0.0.1"}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := r.addrs(ctx, "slow.example")
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	// The shared lookup went on and filled the cache.
	for range 100 {
		if addrs, err := r.addrs(context.Background(), "slow.example"); err == nil && strings.Join(addrs, ",") == "127.0.0.1" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the lookup's answer never reached the cache")
}

func TestResolverDoesNotCacheTransientFailures(t *testing.T) {
	r := newResolver(time.Second)
	var lookups atomic.Int32
	r.lookup = func(ctx context.Context, host string) ([]string, error) {
		if lookups.Add(1) == 1 {
			return nil, &net.DNSError{Err: "i/o timeout", Name: host, IsTimeout: true}
		}
		return []string{"127.0.0.1"}, nil
	}
	if _, err := r.addrs(context.Background(), "flaky.example"); err == nil {
		t.Fatal("the first lookup should fail")
	}
	if addrs, err := r.addrs(context.Background(), "flaky.example"); err != nil || len(addrs) != 1 {
		t.Fatalf("a retry got the cached timeout: %v, %v", addrs, err)
	}
}
