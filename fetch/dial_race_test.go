package fetch

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeConn struct {
	net.Conn
	closed atomic.Bool
}

func (c *fakeConn) Close() error { c.closed.Store(true); return nil }

// A loser that connects although cancelled: its conn is closed, the dial
// waits for it.
func TestLateWinnerClosed(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]*fakeConn{}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c := &fakeConn{}
		mu.Lock()
		conns[addr] = c
		mu.Unlock()
		if addr == "10.0.0.1:80" {
			time.Sleep(300 * time.Millisecond) // ignores ctx, then connects
			return c, nil
		}
		return c, nil
	}
	start := time.Now()
	conn, err := dialStaggered(context.Background(), dial, "tcp", []string{"10.0.0.1", "10.0.0.2"}, "80", 50*time.Millisecond)
	d := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if conn != conns["10.0.0.2:80"] || conns["10.0.0.2:80"].closed.Load() || !conns["10.0.0.1:80"].closed.Load() {
		t.Fatalf("winner/loser handling wrong")
	}
	t.Logf("returned after %v (winner ready at ~50ms, loser ended at 300ms)", d.Round(time.Millisecond))
}

// The parent context is cancelled while the first attempt runs: does the
// timer still start further attempts?
func TestCancelledParentStartsNoMore(t *testing.T) {
	var started atomic.Int32
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		started.Add(1)
		<-ctx.Done()
		time.Sleep(100 * time.Millisecond) // slow to notice, as a real connect may be
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := dialStaggered(ctx, dial, "tcp", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"}, "80", 30*time.Millisecond)
	t.Logf("err %v, attempts started %d", err, started.Load())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if started.Load() > 1 {
		t.Errorf("%d attempts started, %d after the context was cancelled", started.Load(), started.Load()-1)
	}
}
