package fetch_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// downAddr returns a loopback address nothing listens on (a port just
// freed): connections to it are refused until something listens again.
func downAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// bringUp starts the local upstream on addr, the host coming back.
func bringUp(t *testing.T, addr string, cfg upstream.Config) *upstream.Server {
	t.Helper()
	srv, err := upstream.StartOn(addr, cfg)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// trip fails BreakAfter (2) requests to url and checks the circuit is open.
func trip(t *testing.T, c *fetch.Client, url string) {
	t.Helper()
	for i := range 2 {
		if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); kindOf(rec) != fetch.KindConnect {
			t.Fatalf("failure %d: %+v", i+1, rec)
		}
	}
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); kindOf(rec) != fetch.KindCircuitOpen || rec.Attempts != 0 {
		t.Fatalf("after BreakAfter failures: %+v", rec)
	}
}

// A tripped circuit stays open for the cool-down, then lets a probe
// through; a probe that gets an answer closes it.
func TestCircuitClosesAfterTheCooldownWhenTheHostAnswers(t *testing.T) {
	t.Parallel()
	addr := downAddr(t)
	url := "http://" + addr + "/x"
	const cooldown = 300 * time.Millisecond
	c := newClient(t, fetch.Config{Retries: -1, BreakAfter: 2, BreakCooldown: cooldown})
	tripped := time.Now()
	trip(t, c, url)
	srv := bringUp(t, addr, upstream.Config{})
	// Still open within the cool-down, though the host is back: nothing
	// sent. (Checked only when the machine let the test get here within
	// the cool-down: a test never fails on a timing.)
	if elapsed := time.Since(tripped); elapsed < cooldown {
		if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); kindOf(rec) != fetch.KindCircuitOpen {
			t.Fatalf("within the cool-down: %+v", rec)
		}
		if n := srv.Stats().Requests; n != 0 {
			t.Fatalf("%d requests sent while the circuit was open", n)
		}
	}
	time.Sleep(cooldown - time.Since(tripped) + 50*time.Millisecond)
	for i := range 3 {
		if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); rec.Error != nil || rec.Status != 200 {
			t.Fatalf("request %d after the cool-down: %+v", i+1, rec)
		}
	}
	// Closed means counting from zero again: one failure does not trip it.
	srv.Close()
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); kindOf(rec) != fetch.KindConnect {
		t.Fatalf("a failure after closing: %+v", rec)
	}
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); kindOf(rec) != fetch.KindConnect {
		t.Fatalf("the circuit tripped again on one failure: %+v", rec)
	}
}

// A probe that fails to connect opens the circuit for another cool-down.
func TestCircuitReopensWhenTheProbeFails(t *testing.T) {
	t.Parallel()
	addr := downAddr(t)
	url := "http://" + addr + "/x"
	const cooldown = 300 * time.Millisecond
	c := newClient(t, fetch.Config{Retries: 2, RetryBase: time.Millisecond, BreakAfter: 2, BreakCooldown: cooldown})
	// With retries, the failures come from one input: two attempts, then
	// the open circuit ends it.
	rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url})
	if kindOf(rec) != fetch.KindCircuitOpen || rec.Attempts != 2 {
		t.Fatalf("tripping: %+v", rec)
	}
	time.Sleep(cooldown + 50*time.Millisecond)
	probed := time.Now()
	// The probe fails: one attempt, not retried into the open circuit.
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); kindOf(rec) != fetch.KindCircuitOpen || rec.Attempts != 1 {
		t.Fatalf("the failing probe: %+v", rec)
	}
	srv := bringUp(t, addr, upstream.Config{})
	if elapsed := time.Since(probed); elapsed < cooldown { // see above: no failure on a timing
		if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); kindOf(rec) != fetch.KindCircuitOpen || rec.Attempts != 0 {
			t.Fatalf("after the failed probe, within the new cool-down: %+v", rec)
		}
		if n := srv.Stats().Requests; n != 0 {
			t.Fatalf("the server saw %d requests within the new cool-down", n)
		}
	}
	time.Sleep(cooldown - time.Since(probed) + 50*time.Millisecond)
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); rec.Error != nil {
		t.Fatalf("after the second cool-down: %+v", rec)
	}
}

// Half-open lets one probe through: requests made while it is out fail
// at once, and the host sees one request.
func TestHalfOpenCircuitLetsOneProbeThrough(t *testing.T) {
	t.Parallel()
	addr := downAddr(t)
	url := "http://" + addr + "/x"
	const cooldown = 200 * time.Millisecond
	c := newClient(t, fetch.Config{Retries: -1, BreakAfter: 2, BreakCooldown: cooldown})
	trip(t, c, url)
	// The probe's answer takes 3 s: the 5 requests all come while it is
	// out, on a loaded machine too.
	srv := bringUp(t, addr, upstream.Config{Latency: 3 * time.Second})
	time.Sleep(cooldown + 50*time.Millisecond)
	var wg sync.WaitGroup
	recs := make([]fetch.Record, 5)
	for i := range recs {
		wg.Go(func() { recs[i] = c.Do(context.Background(), fetch.Request{Line: i + 1, URL: url}) })
	}
	wg.Wait()
	ok, open := 0, 0
	for _, r := range recs {
		switch kindOf(r) {
		case "":
			ok++
		case fetch.KindCircuitOpen:
			open++
		default:
			t.Errorf("line %d: %+v", r.Line, r.Error)
		}
	}
	if ok != 1 || open != 4 || srv.Stats().Requests != 1 {
		t.Fatalf("%d ok, %d circuit_open, %d requests sent; want 1, 4, 1", ok, open, srv.Stats().Requests)
	}
	// The probe answered: closed for everyone.
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url + "?latency=0"}); rec.Error != nil {
		t.Fatalf("after the probe: %+v", rec)
	}
}

// A probe that never went out (its caller gave up while it waited for a
// rate limit) does not hold the half-open circuit: the next request is
// the probe.
func TestAProbeNotSentLetsTheNextRequestProbe(t *testing.T) {
	t.Parallel()
	addr := downAddr(t)
	url := "http://" + addr + "/x"
	other := upstreamtest.Start(t, upstream.Config{})
	const cooldown = time.Second
	c := newClient(t, fetch.Config{Retries: -1, BreakAfter: 2, BreakCooldown: cooldown, Rate: 2})
	trip(t, c, url) // the second failure, which trips it, waits 500ms for the rate
	tripped := time.Now()
	bringUp(t, addr, upstream.Config{})
	time.Sleep(cooldown - time.Since(tripped) + 50*time.Millisecond)
	// Another host takes the rate's token, so that the probe waits 500ms.
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: other.URL()}); rec.Error != nil {
		t.Fatal(rec.Error)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if rec := c.Do(ctx, fetch.Request{Line: 1, URL: url}); kindOf(rec) != fetch.KindCanceled || rec.Attempts != 0 {
		t.Fatalf("the probe cancelled while it waited: %+v", rec)
	}
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: url}); rec.Error != nil {
		t.Fatalf("the next request should probe and close the circuit: %+v", rec)
	}
}
