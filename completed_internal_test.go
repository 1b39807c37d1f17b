package gather

import (
	"context"
	"testing"
)

// Wait and AsCompleted leave nothing behind on the futures they watched.

func TestWaitAndAsCompletedLeaveNoWatchersOnAPendingFuture(t *testing.T) {
	p := NewPromise[int]()
	futs := []*Future[int]{p.Future(), Resolved(1, nil)}
	for range 1000 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		Wait(ctx, AllCompleted, futs...)
		for range AsCompleted(context.Background(), futs...) {
			break
		}
	}
	p.f.mu.Lock()
	n := len(p.f.w.Load().watchers)
	p.f.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d watchers left on a pending future", n)
	}
	p.Resolve(2)
}
