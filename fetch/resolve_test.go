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
		if !errors.As(err, &dnsErr) || classify(context.Background(), err, nil) != KindDNS {
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

// blackHole wraps a dialer: connecting to hole blocks until the attempt is
// cancelled, as a packet-dropping address does until the connect timeout;
// other addresses are dialed for real. It counts the attempts still open.
func blackHole(hole string, open *atomic.Int32) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		open.Add(1)
		defer open.Add(-1)
		if host, _, _ := net.SplitHostPort(addr); host == hole {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return d.DialContext(ctx, network, addr)
	}
}

// A black-holed first address costs the fallback delay, not the connect
// timeout, and its attempt is over when the dial returns.
func TestDialSkipsBlackHoledAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	r := newResolver(time.Second)
	r.lookup = func(context.Context, string) ([]string, error) {
		return []string{"192.0.2.1", "127.0.0.1"}, nil // TEST-NET-1 first
	}
	var open atomic.Int32
	dial := r.dialContext(blackHole("192.0.2.1", &open))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // the "connect timeout"
	defer cancel()
	start := time.Now()
	conn, err := dial(ctx, "tcp", net.JoinHostPort("example.test", port))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if d := time.Since(start); d < fallbackDelay || d > 5*time.Second {
		t.Errorf("connected after %v; want about the fallback delay %v", d, fallbackDelay)
	}
	if n := open.Load(); n != 0 {
		t.Errorf("%d connection attempts still running after the dial returned", n)
	}
}

// A refused address does not wait for the fallback delay: the next one
// starts at once.
func TestDialRefusedAddressFallsBackAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var open atomic.Int32
	start := time.Now()
	// 127.0.0.2 shares the loopback interface but nothing listens there on
	// this port: the connection is refused.
	conn, err := dialStaggered(context.Background(), blackHole("", &open), "tcp", []string{"127.0.0.2", "127.0.0.1"}, port, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v: the refused address held the dial for the fallback delay", d)
	}
}

// When every address fails, the first failure is returned once every
// attempt has ended.
func TestDialAllAddressesFail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close() // nothing listens on port any more
	var open atomic.Int32
	_, err = dialStaggered(context.Background(), blackHole("", &open), "tcp", []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}, port, time.Minute)
	var opErr *net.OpError
	if !errors.As(err, &opErr) || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("got %v, want the first address's refusal", err)
	}
	if n := open.Load(); n != 0 {
		t.Errorf("%d attempts still running", n)
	}
}

func TestInterleaveFamilies(t *testing.T) {
	got := interleave([]string{"::1", "2001:db8::1", "10.0.0.1", "2001:db8::2", "10.0.0.2", "10.0.0.3"})
	want := []string{"::1", "10.0.0.1", "2001:db8::1", "10.0.0.2", "2001:db8::2", "10.0.0.3"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("interleave = %v, want %v", got, want)
	}
}
