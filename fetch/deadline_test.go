package fetch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// ends returns contexts that end after d: by their deadline (with and
// without a cause of the caller's) or by a cancellation, with the kind
// each must be recorded as.
func ends(d time.Duration) []struct {
	name string
	ctx  func() (context.Context, context.CancelFunc)
	kind fetch.Kind
	is   error
} {
	return []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		kind fetch.Kind
		is   error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), d)
		}, fetch.KindDeadline, context.DeadlineExceeded},
		{"deadline with a cause", func() (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(context.Background(), d, errors.New("the caller's budget"))
		}, fetch.KindDeadline, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			t := time.AfterFunc(d, cancel)
			return ctx, func() { t.Stop(); cancel() }
		}, fetch.KindCanceled, context.Canceled},
	}
}

// The caller's context ending is recorded as deadline when its deadline
// passed, as canceled when it was cancelled, in Do, Run and Get alike:
// during an attempt, in back-off, and waiting for a host's slot.
func TestCallersDeadlineIsRecordedAsDeadline(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	c := newClient(t, fetch.Config{Concurrency: 4, PerHost: 1, RetryBase: 10 * time.Second, RetryMax: 10 * time.Second})
	for _, e := range ends(300 * time.Millisecond) {
		t.Run(e.name, func(t *testing.T) {
			// In an attempt.
			ctx, cancel := e.ctx()
			rec := c.Do(ctx, fetch.Request{Line: 1, URL: srv.URL() + "/do?hang=1"})
			cancel()
			if kindOf(rec) != e.kind || rec.Attempts != 1 {
				t.Errorf("Do, in an attempt: %+v, want %s", rec.Error, e.kind)
			}
			// In back-off after a 503 (the context has no deadline to
			// stop the back-off from starting when it is cancelled).
			if e.kind == fetch.KindCanceled {
				ctx, cancel = e.ctx()
				rec = c.Do(ctx, fetch.Request{Line: 1, URL: srv.URL() + "/backoff?status=503"})
				cancel()
				if kindOf(rec) != e.kind || rec.Status != 503 {
					t.Errorf("Do, in back-off: %+v, want %s", rec, e.kind)
				}
			}
			// Run: one input in flight, two waiting for the host's slot.
			ctx, cancel = e.ctx()
			got := map[fetch.Kind]int{}
			for r := range c.Run(ctx, requests(srv.URL()+"/r1?hang=1", srv.URL()+"/r2?hang=1", srv.URL()+"/r3?hang=1")) {
				got[kindOf(r)]++
			}
			cancel()
			if got[e.kind] != 3 {
				t.Errorf("Run: kinds %v, want 3 %s", got, e.kind)
			}
			// Get: an *Error of the kind, and errors.Is finds the
			// context's error.
			ctx, cancel = e.ctx()
			_, err := c.Get(ctx, srv.URL()+"/get?hang=1")
			cancel()
			var fe *fetch.Error
			if !errors.As(err, &fe) || fe.Kind != e.kind || !errors.Is(err, e.is) {
				t.Errorf("Get: %v, want %s and errors.Is %v", err, e.kind, e.is)
			}
		})
	}
}

// A deadline that passes while a Get waits for its host's slot is a
// deadline too, and so is a rate wait that would end past it.
func TestCallersDeadlineWhileWaiting(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	c := newClient(t, fetch.Config{PerHost: 1, PerHostRate: 0.5})
	ctx := context.Background()
	hold, cancelHold := context.WithCancel(ctx)
	defer cancelHold()
	held := make(chan error, 1)
	go func() {
		_, err := c.Get(hold, srv.URL()+"/hold?hang=1")
		held <- err
	}()
	for srv.Stats().Requests == 0 {
		time.Sleep(time.Millisecond)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := c.Get(short, srv.URL()+"/waits")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting for the host's slot: %v", err)
	}
	cancelHold()
	if err := <-held; !errors.Is(err, context.Canceled) {
		t.Errorf("the held request: %v", err)
	}
	// The host's one token a second was taken: the next waits 2s, past
	// the deadline.
	short2, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	start := time.Now()
	_, err = c.Get(short2, srv.URL()+"/rate")
	var fe *fetch.Error
	if !errors.As(err, &fe) || fe.Kind != fetch.KindDeadline || time.Since(start) > time.Second {
		t.Errorf("a rate wait past the deadline: %v after %v", err, time.Since(start))
	}
}
