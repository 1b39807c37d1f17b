package fetch_test

import (
	"context"
	"fmt"
	"iter"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
)

// refusingHosts returns n URLs of distinct hosts that refuse connections
// at once: loopback addresses 127.0.x.y on a port nothing listens on.
func refusingHosts(t *testing.T, from, n int) iter.Seq[fetch.Request] {
	_, port, _ := net.SplitHostPort(downAddr(t))
	return func(yield func(fetch.Request) bool) {
		for i := from; i < from+n; i++ {
			u := fmt.Sprintf("http://127.%d.%d.%d:%s/", 1+i>>16, (i>>8)&255, i&255, port)
			if !yield(fetch.Request{Line: i + 1, URL: u}) {
				return
			}
		}
	}
}

// holding runs c over requests while sampling how many host states it
// holds; it returns the most it held at once and how many it holds after.
func holding(t *testing.T, c *fetch.Client, reqs iter.Seq[fetch.Request]) (most, after int) {
	t.Helper()
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			peak.Store(max(peak.Load(), int64(fetch.HostStates(c))))
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	})
	for rec := range c.Run(context.Background(), reqs) {
		if kindOf(rec) != fetch.KindConnect {
			t.Fatalf("%s: %+v", rec.URL, rec.Error)
		}
	}
	close(done)
	wg.Wait()
	return int(peak.Load()), fetch.HostStates(c)
}

// A client used for 10,000 distinct hosts holds state only for the hosts
// with a request in flight, and none once they are done.
func TestHostStateIsHeldOnlyForActiveHosts(t *testing.T) {
	t.Parallel()
	const concurrency = 16
	c := newClient(t, fetch.Config{Concurrency: concurrency, PerHost: 2, Retries: -1})
	most, after := holding(t, c, refusingHosts(t, 0, 10000))
	if most > concurrency {
		t.Errorf("%d host states held at once, with %d requests in flight at most", most, concurrency)
	}
	if after != 0 {
		t.Errorf("%d host states held after the run", after)
	}
}

// With a per-host rate, a host's state is kept until its limiter has
// refilled (a new one would let a request through at once), and dropped
// by the sweeps after: the table stays within twice the hosts in flight or
// refilling, here a few dozen, far below the 2,000 hosts seen.
func TestHostStateWithARateIsBoundedBySweeps(t *testing.T) {
	t.Parallel()
	c := newClient(t, fetch.Config{Concurrency: 16, PerHostRate: 1000, Retries: -1})
	most, _ := holding(t, c, refusingHosts(t, 0, 2000))
	if most > 256 {
		t.Errorf("%d host states held at once, for 16 in flight and those refilling for 1ms", most)
	}
}

// A host whose failures are counted (BreakAfter) keeps its state for the
// cool-down, then is swept out when new hosts fill the table.
func TestHostStateWithFailuresIsDroppedAfterTheCooldown(t *testing.T) {
	t.Parallel()
	const cooldown = time.Second
	c := newClient(t, fetch.Config{Concurrency: 16, Retries: -1, BreakAfter: 5, BreakCooldown: cooldown})
	start := time.Now()
	for range c.Run(context.Background(), refusingHosts(t, 0, 100)) {
	}
	if n := fetch.HostStates(c); n != 100 && time.Since(start) < cooldown {
		t.Fatalf("%d host states after 100 hosts failed once, want 100 (their failures count for the cool-down)", n)
	}
	time.Sleep(cooldown + 50*time.Millisecond)
	for range c.Run(context.Background(), refusingHosts(t, 1000, 100)) {
	}
	if n := fetch.HostStates(c); n > 100 {
		t.Fatalf("%d host states after the cool-down and 100 new hosts: the old ones were not swept", n)
	}
}

// The per-host limit applies to the canonical host: URLs that differ
// only in the case of the scheme or host, an explicit default port or a
// userinfo are one host.
func TestPerHostLimitIsPerCanonicalHost(t *testing.T) {
	t.Parallel()
	srv := startCounting(t, func(*http.Request) { time.Sleep(30 * time.Millisecond) })
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	c := newClient(t, fetch.Config{PerHost: 1})
	var wg sync.WaitGroup
	for _, u := range []string{"http://localhost:%s/a", "HTTP://LOCALHOST:%s/b", "http://user:pw@localhost:%s/c", "http://LocalHost:0%s/d"} {
		for range 2 {
			wg.Go(func() {
				if _, err := c.Get(context.Background(), fmt.Sprintf(u, port)); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if most := srv.Most(); most != 1 {
		t.Errorf("%d requests at once to one host written four ways, PerHost 1", most)
	}
}
