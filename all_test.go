package gather_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gogather/gather"
)

func sleeper(d time.Duration, v int) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		select {
		case <-time.After(d):
			return v, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func TestAllInputOrderAndConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		got, err := gather.All(context.Background(),
			sleeper(3*time.Second, 1), sleeper(1*time.Second, 2), sleeper(2*time.Second, 3))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
			t.Fatalf("All = %v, want [1 2 3] in input order", got)
		}
		if time.Since(start) != 3*time.Second {
			t.Fatalf("All took %v, want 3s (concurrent)", time.Since(start))
		}
	})
}

func TestAllZero(t *testing.T) {
	got, err := gather.All[int](context.Background())
	if err != nil || len(got) != 0 {
		t.Fatalf("All() = %v, %v", got, err)
	}
	vals, errs := gather.Settled[int](context.Background())
	if len(vals) != 0 || len(errs) != 0 {
		t.Fatalf("Settled() = %v, %v", vals, errs)
	}
}

func TestAllFirstErrorCancelsRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		start := time.Now()
		got, err := gather.All(context.Background(),
			sleeper(time.Hour, 1),
			func(context.Context) (int, error) { time.Sleep(time.Second); return 0, boom },
			sleeper(time.Hour, 3))
		if err != boom || got != nil {
			t.Fatalf("All = %v, %v; want nil, boom", got, err)
		}
		if time.Since(start) != time.Second {
			t.Fatalf("All returned after %v; the error should cancel the rest at once", time.Since(start))
		}
	})
}

func TestSettledKeepsEveryOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("boom")
		vals, errs := gather.Settled(context.Background(),
			sleeper(2*time.Second, 1),
			func(context.Context) (int, error) { return 0, boom },
			sleeper(time.Second, 3))
		if vals[0] != 1 || vals[2] != 3 || errs[0] != nil || errs[2] != nil {
			t.Fatalf("an error disturbed the others: %v %v", vals, errs)
		}
		if errs[1] != boom {
			t.Fatalf("errs[1] = %v", errs[1])
		}
	})
}

func TestSettledPanicCancelsOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, errs := gather.Settled(context.Background(), sleeper(time.Hour, 1), panicsWith("bad"))
		if !errors.Is(errs[0], context.Canceled) {
			t.Fatalf("errs[0] = %v, want context.Canceled", errs[0])
		}
		if _, ok := errors.AsType[*gather.PanicError](errs[1]); !ok {
			t.Fatalf("errs[1] = %v, want a *PanicError", errs[1])
		}
	})
}

func TestAllParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := gather.All(ctx, sleeper(time.Hour, 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("All under a cancelled context = %v", err)
	}
}
