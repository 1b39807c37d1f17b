package gather_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gogather/gather"
)

// Cancel one task, asyncio's task.cancel(msg): the slower mirror is stopped
// with a cause once the faster one has answered, and neither its sibling
// nor the scope fails for it.
func ExampleFuture_Cancel() {
	ctx := context.Background()
	mirror := func(name string, d time.Duration) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			select {
			case <-time.After(d):
				return name, nil
			case <-ctx.Done():
				return "", context.Cause(ctx) // the cause given to Cancel
			}
		}
	}
	s := gather.NewScope(ctx)
	fast := gather.Go(s, mirror("fast mirror", 10*time.Millisecond))
	slow := gather.Go(s, mirror("slow mirror", time.Hour))
	answer, _ := fast.Await(ctx)
	fmt.Println("answer:", answer)
	fmt.Println("slow was still running:", slow.Cancel(errors.New("another mirror answered")))
	_, err := slow.Await(ctx)
	fmt.Println("slow:", err, "- cancelled:", slow.Cancelled())
	fmt.Println("scope:", s.Wait())
	// Output:
	// answer: fast mirror
	// slow was still running: true
	// slow: another mirror answered - cancelled: true
	// scope: <nil>
}

// No error is lost: the first failure comes first, a failure during the
// cleanup comes with it, and the cancellation the first one caused is left
// out. errors.Is and errors.As find each one.
//
// The first task fails only once its siblings are started: a Go after the
// scope is cancelled starts nothing, so a sibling started after the first
// failure would never run, nor fail.
func ExampleScope_Wait() {
	errDisk := errors.New("disk full")
	s := gather.NewScope(context.Background())
	started := make(chan struct{})
	gather.Go(s, func(context.Context) (int, error) {
		<-started
		return 0, errors.New("quota exceeded")
	})
	gather.Go(s, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, errDisk // a real failure while stopping
	})
	gather.Go(s, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err() // cancelled by the first failure: left out
	})
	close(started)
	err := s.Wait()
	fmt.Println(err)
	fmt.Println("disk full among them:", errors.Is(err, errDisk))
	fmt.Println("a cancellation among them:", errors.Is(err, context.Canceled))
	// Output:
	// quota exceeded
	// disk full
	// disk full among them: true
	// a cancellation among them: false
}

// A caller that gives up on CPU-bound work stops waiting at once; the
// executor owns the function, and Close says what still runs when its own
// wait gives up.
func ExampleExecutor_Close() {
	e := gather.NewExecutor(2)
	release := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := gather.OffloadTo(ctx, e, func() (int, error) { <-release; return 1, nil })
	fmt.Println("the caller stopped waiting:", errors.Is(err, context.DeadlineExceeded))

	wait, cancelWait := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelWait()
	err = e.Close(wait)
	if sre, ok := errors.AsType[*gather.StillRunningError](err); ok {
		fmt.Println("still running when the wait gave up:", len(sre.Running))
	}
	_, err = gather.OffloadTo(context.Background(), e, func() (int, error) { return 2, nil })
	fmt.Println("new work:", err)
	close(release)
	fmt.Println("closed:", e.Close(context.Background()))
	// Output:
	// the caller stopped waiting: true
	// still running when the wait gave up: 1
	// new work: gather: executor closed
	// closed: <nil>
}

// Wait over the values of a map: an iter.Seq of futures.
func ExampleWaitSeq() {
	s := gather.NewScope(context.Background())
	byHost := map[string]*gather.Future[int]{}
	for i, host := range []string{"a.example", "b.example", "c.example"} {
		byHost[host] = gather.Go(s, func(context.Context) (int, error) { return 200 + i, nil })
	}
	done, pending, err := gather.WaitSeq(context.Background(), gather.AllCompleted, maps.Values(byHost))
	fmt.Println(len(done), "done,", len(pending), "pending,", err)
	for _, host := range slices.Sorted(maps.Keys(byHost)) {
		v, _ := byHost[host].Result()
		fmt.Println(host, v)
	}
	fmt.Println(s.Wait())
	// Output:
	// 3 done, 0 pending, <nil>
	// a.example 200
	// b.example 201
	// c.example 202
	// <nil>
}

// AsCompleted over a sequence of futures, each yielded with its position in
// the sequence.
func ExampleAsCompletedSeq() {
	s := gather.NewScope(context.Background())
	started := func(yield func(*gather.Future[string]) bool) {
		for _, d := range []time.Duration{300, 0, 150} {
			f := gather.Go(s, func(context.Context) (string, error) {
				time.Sleep(d * time.Millisecond)
				return fmt.Sprintf("%dms", d), nil
			})
			if !yield(f) {
				return
			}
		}
	}
	for i, f := range gather.AsCompletedSeq(context.Background(), started) {
		v, _ := f.Result()
		fmt.Println(i, v)
	}
	fmt.Println(s.Wait())
	// Output:
	// 1 0ms
	// 2 150ms
	// 0 300ms
	// <nil>
}

// A done-callback taken off before the future is settled: asyncio's
// remove_done_callback.
func ExampleFuture_OnDone() {
	p := gather.NewPromise[string]()
	f := p.Future()
	f.OnDone(func(v string, err error) { fmt.Println("logged:", v, err) })
	remove := f.OnDone(func(string, error) { fmt.Println("never printed") })
	fmt.Println("removed:", remove())
	p.Resolve("ok")
	// Output:
	// removed: true
	// logged: ok <nil>
}
