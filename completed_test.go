package gather_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gogather/gather"
)

func startSleepers(s *gather.Scope, secs ...int) []*gather.Future[int] {
	var futs []*gather.Future[int]
	for _, n := range secs {
		futs = append(futs, gather.Go(s, sleeper(time.Duration(n)*time.Second, n)))
	}
	return futs
}

func TestAsCompletedOrderAndIndex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		futs := startSleepers(s, 3, 1, 4, 2)
		var order, indexes []int
		for i, f := range gather.AsCompleted(context.Background(), futs...) {
			v, err := f.Result()
			if err != nil {
				t.Fatal(err)
			}
			if f != futs[i] {
				t.Fatalf("index %d does not name its future", i)
			}
			order = append(order, v)
			indexes = append(indexes, i)
		}
		if !slices.Equal(order, []int{1, 2, 3, 4}) || !slices.Equal(indexes, []int{1, 3, 0, 2}) {
			t.Fatalf("completion order %v with indexes %v", order, indexes)
		}
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAsCompletedAlreadyDoneAndEmpty(t *testing.T) {
	for range gather.AsCompleted[int](context.Background()) {
		t.Fatal("AsCompleted of nothing yielded")
	}
	futs := []*gather.Future[int]{gather.Resolved(0, nil), gather.Resolved(1, nil), gather.Resolved(2, nil)}
	var got []int
	for i := range gather.AsCompleted(context.Background(), futs...) {
		got = append(got, i)
	}
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("done futures yielded as %v, want index order", got)
	}
}

func TestAsCompletedBreakAndContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		futs := startSleepers(s, 1, 2, 3)
		for range gather.AsCompleted(context.Background(), futs...) {
			break // at 1s
		}
		// Deadline at 2.5s: the futures of 1s and 2s are yielded, not the 3s one.
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		n := 0
		for range gather.AsCompleted(ctx, futs...) {
			n++
		}
		if n != 2 || ctx.Err() == nil {
			t.Fatalf("yielded %d before the deadline, want 2", n)
		}
		// The tasks were not cancelled by the iterations ending.
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
		for _, f := range futs {
			if _, err := f.Result(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestWaitModes(t *testing.T) {
	boom := errors.New("boom")
	failAfter := func(d time.Duration) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { time.Sleep(d); return -1, boom }
	}
	cases := []struct {
		mode        gather.WaitMode
		wantDone    int
		wantElapsed time.Duration
	}{
		{gather.FirstCompleted, 1, time.Second},
		{gather.FirstException, 2, 2 * time.Second},
		{gather.AllCompleted, 4, 4 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := gather.NewScope(context.Background(), gather.KeepGoing())
				futs := []*gather.Future[int]{
					gather.Go(s, sleeper(4*time.Second, 4)),
					gather.Go(s, sleeper(time.Second, 1)),
					gather.Go(s, failAfter(2*time.Second)),
					gather.Go(s, sleeper(3*time.Second, 3)),
				}
				start := time.Now()
				done, pending, err := gather.Wait(context.Background(), c.mode, futs...)
				if err != nil {
					t.Fatal(err)
				}
				if time.Since(start) != c.wantElapsed || len(done) != c.wantDone || len(done)+len(pending) != 4 {
					t.Fatalf("after %v: %d done, %d pending", time.Since(start), len(done), len(pending))
				}
				for _, f := range pending {
					if _, err := f.Result(); !errors.Is(err, gather.ErrPending) {
						t.Fatal("a pending future is done")
					}
				}
				// Pending futures keep running: they all finish. The
				// failure nobody retrieved is Wait's.
				if err := s.Wait(); err != boom {
					t.Fatalf("Wait = %v, want boom", err)
				}
				if v, _ := futs[0].Result(); v != 4 {
					t.Fatalf("a pending task was disturbed: %d", v)
				}
			})
		})
	}
}

func TestWaitFirstExceptionWithoutFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		futs := startSleepers(s, 1, 2)
		done, pending, err := gather.Wait(context.Background(), gather.FirstException, futs...)
		if err != nil || len(done) != 2 || len(pending) != 0 {
			t.Fatalf("Wait = %d done, %d pending, %v", len(done), len(pending), err)
		}
		s.Wait()
	})
}

func TestWaitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		futs := startSleepers(s, 1, 5, 9)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		done, pending, err := gather.Wait(ctx, gather.AllCompleted, futs...)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the deadline", err)
		}
		if len(done) != 1 || done[0] != futs[0] || len(pending) != 2 || pending[0] != futs[1] {
			t.Fatalf("split %d done / %d pending, in the wrong order or count", len(done), len(pending))
		}
		s.Cancel() // pending ones run until cancelled
		s.Wait()
		if _, err := futs[2].Result(); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled pending task = %v", err)
		}
	})
}

func TestWaitEmptyAndBadMode(t *testing.T) {
	done, pending, err := gather.Wait[int](context.Background(), gather.FirstCompleted)
	if done != nil || pending != nil || err != nil {
		t.Fatal("Wait of nothing returned something")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Wait with mode 7 did not panic")
		}
	}()
	gather.Wait[int](context.Background(), gather.WaitMode(7))
}

// Issue 11: with a context that is already done and futures that are
// already done, the results are there and must be handed back every time,
// never the context's error instead.
func TestDoneResultsWinOverDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	futs := []*gather.Future[int]{gather.Resolved(0, nil), gather.Resolved(1, errors.New("one")), gather.Resolved(2, nil)}
	for rep := range 1000 {
		for _, mode := range []gather.WaitMode{gather.AllCompleted, gather.FirstCompleted, gather.FirstException} {
			done, pending, err := gather.Wait(ctx, mode, futs...)
			if err != nil || len(done) != 3 || len(pending) != 0 {
				t.Fatalf("repetition %d, %v: Wait = %d done, %d pending, %v; want every future done and no error", rep, mode, len(done), len(pending), err)
			}
		}
		n := 0
		for range gather.AsCompleted(ctx, futs...) {
			n++
		}
		if n != 3 {
			t.Fatalf("repetition %d: AsCompleted yielded %d of 3 done futures", rep, n)
		}
		p := gather.NewPromise[int]()
		p.Resolve(5)
		if v, err := p.Future().Await(ctx); v != 5 || err != nil {
			t.Fatalf("repetition %d: Await = %d, %v", rep, v, err)
		}
	}
}

// A future that completes while Wait waits and a context done at the same
// time: whatever is done when Wait returns is in done, and an error is
// reported only when the mode's condition does not hold.
func TestWaitDoneFuturesCountedWhenContextEnds(t *testing.T) {
	for rep := range 1000 {
		ctx, cancel := context.WithCancel(context.Background())
		p := gather.NewPromise[int]()
		go func() { p.Resolve(1); cancel() }()
		done, pending, err := gather.Wait(ctx, gather.AllCompleted, p.Future())
		if len(done)+len(pending) != 1 {
			t.Fatalf("repetition %d: lost a future", rep)
		}
		if len(done) == 1 && err != nil {
			t.Fatalf("repetition %d: every future done and err = %v", rep, err)
		}
		if len(pending) == 1 && err == nil {
			t.Fatalf("repetition %d: a future pending and no error", rep)
		}
		cancel()
		<-p.Future().Done()
	}
}

// Issue 11: Wait and AsCompleted accept an iter.Seq of futures.
func TestWaitAndAsCompletedOverASeq(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := gather.NewScope(context.Background())
		byName := map[string]*gather.Future[int]{}
		for i, name := range []string{"c", "a", "b"} {
			byName[name] = gather.Go(s, sleeper(time.Duration(3-i)*time.Second, 3-i))
		}
		done, pending, err := gather.WaitSeq(context.Background(), gather.FirstCompleted, maps.Values(byName))
		if err != nil || len(done) != 1 || len(pending) != 2 {
			t.Fatalf("WaitSeq = %d done, %d pending, %v", len(done), len(pending), err)
		}
		if v, _ := done[0].Result(); v != 1 {
			t.Fatalf("the first done is %d, want 1", v)
		}
		var got []int
		futs := []*gather.Future[int]{byName["c"], byName["a"], byName["b"]}
		for i, f := range gather.AsCompletedSeq(context.Background(), slices.Values(futs)) {
			if f != futs[i] {
				t.Fatalf("index %d does not name its future in the sequence", i)
			}
			v, _ := f.Result()
			got = append(got, v)
		}
		if !slices.Equal(got, []int{1, 2, 3}) {
			t.Fatalf("AsCompletedSeq yielded %v, want completion order", got)
		}
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// A future is marked done an instant before it signals AsCompleted: one seen
// done is yielded even when ctx ends in that instant.
func TestAsCompletedYieldsWhatIsDoneWhileItSignals(t *testing.T) {
	for rep := range 3000 {
		ctx, cancel := context.WithCancel(context.Background())
		p := gather.NewPromise[int]()
		f := p.Future()
		go func() { <-f.Done(); cancel() }() // as soon as f is seen done
		go p.Resolve(1)
		n := 0
		for range gather.AsCompleted(ctx, f) {
			n++
		}
		if n != 1 {
			t.Fatalf("repetition %d: the future was done before ctx, and not yielded", rep)
		}
		<-ctx.Done()
	}
}
