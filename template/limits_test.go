package template

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// heapWatch samples the heap until stopped and returns its peak. Past
// limit it panics: a runaway expression would otherwise take the machine's
// memory before the test could fail.
func heapWatch(limit uint64) (stop func() uint64) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peak uint64
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			if peak > limit {
				panic(fmt.Sprintf("the heap grew to %d MiB, past %d MiB", peak>>20, limit>>20))
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak
	}
}

// Execute, without a context, is bounded in time by default: an expression
// that never ends, and one that builds an endless array, are stopped with
// ErrTimeLimit, and the heap does not grow without bound meanwhile (gojq
// cannot bound memory; the time limit bounds what it can allocate).
func TestExecuteTimeLimitByDefault(t *testing.T) {
	const heapLimit = 512 << 20 // generous: about 50 MiB are reached in DefaultTime
	for _, tmpl := range []string{"x${{ [repeat(1)] | length }}", "${{ def f: f; f }}", "${{ 1, ([repeat(1)] | length) }}"} {
		tm, err := Parse(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		stop := heapWatch(heapLimit)
		_, err = tm.Execute(record)
		peak := stop()
		var te *Error
		if !errors.Is(err, ErrTimeLimit) || !errors.As(err, &te) || !strings.Contains(err.Error(), "time limit") {
			t.Fatalf("%q: %v, want ErrTimeLimit", tmpl, err)
		}
		t.Logf("%q: %v; heap peak %d MiB", tmpl, err, peak>>20)
	}
}

// The limits can be set: a shorter time, and none.
func TestExecuteLimits(t *testing.T) {
	tm, _ := Parse("${{ def f: f; f }}")
	if _, err := tm.ExecuteLimits(context.Background(), record, Limits{Time: 10 * time.Millisecond}); !errors.Is(err, ErrTimeLimit) {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := tm.ExecuteLimits(ctx, record, Limits{Time: -1})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeLimit) {
		t.Fatalf("no time limit, the context's deadline: %v", err)
	}
	big, _ := Parse(`${{ "x" * 100 }}`)
	if _, err := big.ExecuteLimits(context.Background(), record, Limits{Bytes: 99}); !errors.Is(err, ErrSizeLimit) {
		t.Fatal(err)
	}
	if got, err := big.ExecuteLimits(context.Background(), record, Limits{Bytes: 100}); len(got) != 100 || err != nil {
		t.Fatal(len(got), err)
	}
	if got, err := big.ExecuteLimits(context.Background(), record, Limits{Bytes: -1}); len(got) != 100 || err != nil {
		t.Fatal(len(got), err)
	}
}

// A cancelled context stops a template at once: its error is the
// context's, not the time limit.
func TestExecuteCancelled(t *testing.T) {
	tm, _ := Parse("${{ [repeat(1)] | length }}")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := tm.ExecuteContext(ctx, record)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeLimit) {
		t.Fatalf("%v, want context.Canceled", err)
	}
}

// The text a template produces is bounded by default (DefaultBytes): a
// string, an array's JSON, or literal text and values together.
func TestExecuteSizeLimitByDefault(t *testing.T) {
	for _, tmpl := range []string{
		fmt.Sprintf(`${{ "x" * %d }}`, DefaultBytes+1),
		fmt.Sprintf(`${{ [range(16)] | map("x" * %d) }}`, DefaultBytes/16),
		fmt.Sprintf(`ab${{ "x" * %d }}`, DefaultBytes-1),
		fmt.Sprintf(`${{ "x" * %d }}${{ "y" * %d }}`, DefaultBytes/2+1, DefaultBytes/2),
	} {
		tm, err := Parse(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tm.Execute(record)
		if !errors.Is(err, ErrSizeLimit) || got != "" || !strings.Contains(err.Error(), "size limit") {
			t.Fatalf("%q: %d bytes, %v; want ErrSizeLimit", tmpl, len(got), err)
		}
	}
	tm, _ := Parse(fmt.Sprintf(`a${{ "x" * %d }}`, DefaultBytes-1))
	if got, err := tm.Execute(record); len(got) != DefaultBytes || err != nil {
		t.Fatalf("exactly DefaultBytes: %d, %v", len(got), err)
	}
}

// An expression with endless values is read for two only.
func TestExecuteEndlessValues(t *testing.T) {
	tm, _ := Parse("${{ repeat(1) }}")
	if _, err := tm.Execute(record); err == nil || !strings.Contains(err.Error(), "more than one value") {
		t.Fatal(err)
	}
}
