package gather_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gogather/gather"
)

// Issue 11: a task started by Go can be cancelled on its own.
func TestFutureCancelOneTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background()) // fail-fast
		why := errors.New("no longer needed")
		var seen error
		victim := gather.Go(s, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			seen = context.Cause(ctx)
			return 0, ctx.Err()
		})
		sibling := gather.Go(s, func(ctx context.Context) (int, error) {
			select {
			case <-time.After(time.Second):
				return 7, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		})
		time.Sleep(time.Millisecond)
		if !victim.Cancel(why) {
			t.Fatal("Cancel of a running task reported false")
		}
		if err := s.Wait(); err != nil {
			t.Fatalf("Wait = %v; a task's own cancellation is not a failure of the scope", err)
		}
		if seen != why {
			t.Fatalf("context.Cause in the task = %v, want the cause given to Cancel", seen)
		}
		if _, err := victim.Result(); !errors.Is(err, context.Canceled) || !victim.Cancelled() {
			t.Fatalf("victim = %v, cancelled %v; want recorded as cancelled", err, victim.Cancelled())
		}
		if v, err := sibling.Result(); v != 7 || err != nil || sibling.Cancelled() {
			t.Fatalf("sibling = %d, %v; it must not be cancelled", v, err)
		}
		if victim.Cancel(nil) {
			t.Fatal("Cancel of a finished task reported true")
		}
	})
}

func TestFutureCancelDetails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		// A nil cause is context.Canceled.
		var cause error
		f := gather.Go(s, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return 0, cause
		})
		synctest.Wait()
		if !f.Cancel(nil) || !f.Cancel(errors.New("second")) {
			t.Fatal("Cancel of a running task reported false")
		}
		<-f.Done()
		if cause != context.Canceled || !f.Cancelled() {
			t.Fatalf("cause = %v, cancelled %v", cause, f.Cancelled())
		}
		// A cancelled task that returns a value anyway keeps it.
		ignoring := gather.Go(s, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 5, nil
		})
		synctest.Wait()
		ignoring.Cancel(nil)
		if v, err := ignoring.Await(context.Background()); v != 5 || err != nil || ignoring.Cancelled() {
			t.Fatalf("ignoring = %d, %v, cancelled %v", v, err, ignoring.Cancelled())
		}
		// Futures that are not tasks cannot be cancelled.
		p := gather.NewPromise[int]()
		if p.Future().Cancel(nil) || gather.Resolved(1, nil).Cancel(nil) {
			t.Fatal("Cancel of a future without a task reported true")
		}
		p.Resolve(1)
		if err := s.Wait(); err != nil {
			t.Fatalf("Wait = %v", err)
		}
	})
}

// A cancelled task that fails with something else than its cancellation
// has failed: the scope reports it.
func TestFutureCancelOtherErrorIsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		boom := errors.New("boom while stopping")
		f := gather.Go(s, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, boom
		})
		synctest.Wait()
		f.Cancel(nil)
		if err := s.Wait(); err != boom || f.Cancelled() {
			t.Fatalf("Wait = %v, cancelled %v; want boom", err, f.Cancelled())
		}
	})
}

// The task's context is a child of the scope's: cancelling the scope still
// reaches it, and contexts derived from it follow both.
func TestFutureCancelDerivedContexts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		started := make(chan struct{})
		f := gather.Go(s, func(ctx context.Context) (int, error) {
			child, cancel := context.WithTimeout(ctx, time.Hour)
			defer cancel()
			close(started)
			<-child.Done()
			if context.Cause(child) != context.Canceled {
				return 0, errors.New("derived context lost the cause")
			}
			return 0, child.Err()
		})
		<-started
		f.Cancel(nil)
		if err := s.Wait(); err != nil || !f.Cancelled() {
			t.Fatalf("Wait = %v, cancelled %v", err, f.Cancelled())
		}

		s = gather.NewScope(context.Background())
		g := gather.Go(s, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		})
		synctest.Wait()
		s.Cancel()
		if err := s.Wait(); !errors.Is(err, context.Canceled) || g.Cancelled() {
			t.Fatalf("scope Cancel: Wait = %v, task cancelled on its own %v", err, g.Cancelled())
		}
	})
}

// Cancel racing with tasks that end on their own: whatever the interleaving,
// a future recorded as cancelled holds its cancellation, a Cancel that
// reported false found the future done, and the scope never fails.
func TestFutureCancelRacesWithTheEnd(t *testing.T) {
	for range 50 {
		s := gather.NewScope(context.Background())
		var futs []*gather.Future[int]
		for i := range 64 {
			futs = append(futs, gather.Go(s, func(ctx context.Context) (int, error) {
				if i%2 == 0 {
					<-ctx.Done()
					return 0, ctx.Err()
				}
				return i, nil
			}))
		}
		for _, f := range futs {
			if !f.Cancel(nil) {
				if _, err := f.Result(); errors.Is(err, gather.ErrPending) {
					t.Fatal("Cancel reported false for a future not done")
				}
			}
		}
		if err := s.Wait(); err != nil {
			t.Fatalf("Wait = %v", err)
		}
		for i, f := range futs {
			v, err := f.Result()
			switch {
			case f.Cancelled() && !errors.Is(err, context.Canceled):
				t.Fatalf("future %d cancelled with %v", i, err)
			case !f.Cancelled() && (err != nil || v != i):
				t.Fatalf("future %d = %d, %v, not cancelled", i, v, err)
			}
		}
	}
}

// Wait(FirstException) does not take a task's own cancellation for a
// failure: it goes on waiting for the others, as asyncio's
// FIRST_EXCEPTION ignores cancelled tasks.
func TestWaitFirstExceptionIgnoresACancelledTask(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		victim := gather.Go(s, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			return 0, ctx.Err()
		})
		other := gather.Go(s, func(ctx context.Context) (int, error) {
			time.Sleep(time.Second)
			return 2, nil
		})
		time.Sleep(time.Millisecond)
		victim.Cancel(nil)
		done, pending, err := gather.Wait(context.Background(), gather.FirstException, victim, other)
		if err != nil || len(done) != 2 || len(pending) != 0 {
			t.Fatalf("Wait = %d done, %d pending, %v; want both done: a cancelled task is no exception", len(done), len(pending), err)
		}
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}
