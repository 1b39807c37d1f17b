package gather

import (
	"context"
	"fmt"
	"iter"
	"slices"
)

// AsCompleted yields the futures in the order they complete, each with its
// index in futs, as asyncio.as_completed. Futures already done are yielded
// first, in index order. Each completion costs O(1): the futures signal a
// channel when they settle; nothing polls or selects over all of them.
//
// Iteration ends when every future has been yielded, when the loop breaks,
// or when ctx is done (check ctx.Err() to tell). A future that is done is
// always yielded before a done ctx ends the iteration: with ctx already
// cancelled, AsCompleted still yields every future that is done. Stopping
// early does not cancel the futures' tasks.
//
// For a stream of inputs rather than started futures, use Map.
func AsCompleted[T any](ctx context.Context, futs ...*Future[T]) iter.Seq2[int, *Future[T]] {
	return func(yield func(int, *Future[T]) bool) {
		completions, stop := watchAll(futs)
		defer stop()
		for n := 0; n < len(futs); n++ {
			i, ok := next(ctx, completions)
			if !ok {
				// ctx is done. A future that is done may still be sending
				// its index (it is marked done first): yield every one.
				for n < countDone(futs) {
					j := <-completions
					if !yield(j, futs[j]) {
						return
					}
					n++
				}
				return
			}
			if !yield(i, futs[i]) {
				return
			}
		}
	}
}

// countDone returns how many of futs are done.
func countDone[T any](futs []*Future[T]) int {
	n := 0
	for _, f := range futs {
		if f.isDone() {
			n++
		}
	}
	return n
}

// AsCompletedSeq is AsCompleted over a sequence of futures (the values of a
// map, say, with maps.Values): each future is yielded with its position in
// futs. The sequence is read to its end when the iteration starts, before
// the first future is yielded, so it must be finite; for a stream of inputs
// of any length, use Map.
func AsCompletedSeq[T any](ctx context.Context, futs iter.Seq[*Future[T]]) iter.Seq2[int, *Future[T]] {
	return func(yield func(int, *Future[T]) bool) {
		AsCompleted(ctx, slices.Collect(futs)...)(yield)
	}
}

// next returns the index of the next future to complete, preferring a
// completion that is already there to a context that is done: a result that
// is there is always handed back. It reports false only when ctx is done and
// no completion is waiting.
func next(ctx context.Context, completions <-chan int) (int, bool) {
	select {
	case i := <-completions:
		return i, true
	default:
	}
	select {
	case i := <-completions:
		return i, true
	case <-ctx.Done():
		// Both may have been ready; the select chose at random.
		select {
		case i := <-completions:
			return i, true
		default:
			return 0, false
		}
	}
}

// watchAll returns a channel that receives the index of each future when it
// settles, and a function that stops watching the futures still pending, so
// that repeated calls over long-pending futures leave nothing behind. The
// buffer holds every index: a settling future never blocks on it.
func watchAll[T any](futs []*Future[T]) (completions <-chan int, stop func()) {
	ch := make(chan int, len(futs))
	for i, f := range futs {
		f.watch(ch, i)
	}
	return ch, func() {
		for _, f := range futs {
			if !f.isDone() {
				f.unwatch(ch)
			}
		}
	}
}

// WaitSeq is Wait over a sequence of futures (the values of a map, say, with
// maps.Values). The sequence is read to its end first, so it must be
// finite; done and pending are in its order.
func WaitSeq[T any](ctx context.Context, mode WaitMode, futs iter.Seq[*Future[T]]) (done, pending []*Future[T], err error) {
	return Wait(ctx, mode, slices.Collect(futs)...)
}

// WaitMode says when Wait returns, as asyncio.wait's return_when.
type WaitMode int

const (
	// AllCompleted returns when every future is done.
	AllCompleted WaitMode = iota
	// FirstCompleted returns when any future is done.
	FirstCompleted
	// FirstException returns when any future fails, or when every future is
	// done if none fails. A task cancelled on its own (Future.Cancel) has
	// not failed, as asyncio's FIRST_EXCEPTION ignores cancelled tasks.
	FirstException
)

// String returns the mode's name.
func (m WaitMode) String() string {
	switch m {
	case AllCompleted:
		return "AllCompleted"
	case FirstCompleted:
		return "FirstCompleted"
	case FirstException:
		return "FirstException"
	}
	return fmt.Sprintf("WaitMode(%d)", int(m))
}

// Wait waits until the condition of mode holds, as asyncio.wait, and returns
// the futures that are done at that moment and those still pending, each in
// the order of futs. Put a timeout on it with context.WithTimeout: when ctx
// is done first, Wait returns the futures split as they stand and ctx's
// error (wrapped with its cause when that is another error, so that
// errors.Is finds both).
// The error is reported only when the condition does not hold in what Wait
// returns: futures that are done always count, so a done ctx never hides a
// result that is there.
//
// Pending futures keep running; cancel their Scope to stop them. With no
// futures Wait returns at once.
func Wait[T any](ctx context.Context, mode WaitMode, futs ...*Future[T]) (done, pending []*Future[T], err error) {
	if mode < AllCompleted || mode > FirstException {
		panic(fmt.Sprintf("gather: Wait with unknown mode %v", mode))
	}
	completions, stop := watchAll(futs)
	defer stop()
	for range futs {
		i, ok := next(ctx, completions)
		if !ok || mode == FirstCompleted || (mode == FirstException && futs[i].failed()) {
			break
		}
	}
	failed := false
	for _, f := range futs {
		if f.isDone() {
			done = append(done, f)
			failed = failed || f.failed()
		} else {
			pending = append(pending, f)
		}
	}
	// The condition is judged on what Wait returns, so that futures done
	// by now are never reported as a timeout.
	holds := len(pending) == 0 ||
		(mode == FirstCompleted && len(done) > 0) ||
		(mode == FirstException && failed)
	if !holds {
		err = ctxErr(ctx)
	}
	return done, pending, err
}
