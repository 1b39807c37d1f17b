// Package gather runs many I/O operations concurrently with bounded
// resources and hands back every result: asyncio's ideas, each with one Go
// home, context-first and typed with generics.
//
// # A short tour
//
// A Scope owns tasks. Go starts a task now and returns its Future; Wait
// joins every task of the scope and returns every failure, the first one
// first:
//
//	s := gather.NewScope(ctx, gather.Limit(8))
//	user := gather.Go(s, func(ctx context.Context) (User, error) { return getUser(ctx, id) })
//	orders := gather.Go(s, func(ctx context.Context) ([]Order, error) { return getOrders(ctx, id) })
//	if err := s.Wait(); err != nil { ... }
//	u, _ := user.Result()
//
// All and Settled are the one-call forms of asyncio.gather. Map streams an
// iter.Seq of any length through a function with a concurrency limit and
// yields each Result, with its input and index, as it completes or in input
// order:
//
//	for r := range gather.MapKeyed(ctx, urls, 64, gather.PerKey(4, host), fetch) {
//		fmt.Println(r.Index, r.Input, r.Value, r.Err)
//	}
//
// # From asyncio to gather
//
//	asyncio                                gather
//	-------                                ------
//	asyncio.create_task(coro)              Go(scope, fn) *Future[T]
//	await task / task.result()             fut.Await(ctx) / fut.Result()
//	task.done(), add_done_callback         fut.Done(), remove := fut.OnDone(cb)
//	remove_done_callback                   remove()
//	Future() + set_result/set_exception    NewPromise[T](); p.Resolve(v) / p.Reject(err)
//	gather(*aws)                           All(ctx, fns...)
//	gather(*aws, return_exceptions=True)   Settled(ctx, fns...)
//	as_completed(aws)                      AsCompleted(ctx, futs...), AsCompletedSeq(ctx, seq)
//	as_completed over a semaphore          Map(ctx, seq, limit, fn)
//	results in order, bounded              Map(..., Ordered(window))
//	wait(aws, return_when=..., timeout)    Wait(ctx, FirstCompleted|FirstException|AllCompleted, futs...), WaitSeq
//	Semaphore(n)                           Limit(n) on a scope; Map's limit
//	a semaphore per host                   MapKeyed with PerKey(n, key); KeyedLimiter
//	asyncio.timeout / wait_for             context.WithTimeout
//	task.cancel(msg), task.cancelled()     fut.Cancel(cause) bool, fut.Cancelled(); context.Cause(ctx) in the task
//	cancel every task                      scope.Cancel()
//	TaskGroup, ExceptionGroup              NewScope + Wait: every failure, joined (errors.Is/As)
//	loop.run_in_executor(None, fn)         Offload(ctx, fn); as a future: GoOffload(scope, nil, fn)
//	executor.shutdown(wait=True)           exec.Close(ctx): *StillRunningError names what still runs
//
// # Cancelling one task
//
// Cancel on a task's future cancels that task's context only, with an
// optional cause the task reads with context.Cause, and reports whether the
// task was still running. A task that ends with that cancellation is
// Cancelled: not a failure, its scope and siblings go on:
//
//	slow := gather.Go(s, fetchMirror)
//	...
//	slow.Cancel(errors.New("another mirror answered"))
//
// # Every error, and the caller's own cancellation
//
// Scope.Wait and All lose no error: the first failure comes first, every
// other real failure is joined with it (errors.Is and errors.As find each
// one), and the cancellations the first one caused are left out. A
// KeepGoing scope's Wait reports the failures whose futures nobody
// retrieved. Each task's own error is its future's (Result, Await).
//
// The caller always sees its own cancellation, as in asyncio: when the
// caller's context (the parent of a scope, the ctx of All, Settled, Wait)
// is done before what was asked is there, the call reports the context's
// error, wrapped with its cause. Results that are there are never hidden by
// a done context: Wait, AsCompleted and Await check what is done first, and
// All, Settled and Scope.Wait report the cancellation only when a task
// returned after it.
//
// # Design choices
//
// Structured: every goroutine gather starts has an owner that waits for it.
// Tasks belong to a Scope and Wait joins them; Map joins its goroutines
// before its range statement returns, also when the loop breaks; AsCompleted
// and Wait start no goroutines at all; an Executor's goroutines are joined
// by Close. There are no background goroutines and no tickers.
//
// Cancellation is contexts. A scope's context is cancelled at the first of:
// its parent is done, Cancel, a task panics, a task fails (unless
// KeepGoing), or Wait returns. Each task's context is a child of its
// scope's, so that Future.Cancel can cancel one task. A cancelled scope starts nothing new, and a
// Go waiting for a slot under Limit stops waiting when the scope is
// cancelled, so a full scope can always be shut down from outside. Awaiting
// a future with a context only bounds the wait; it never cancels the task.
//
// Panics are errors with their stack. A panic in a task, or in a done
// callback, is recovered into a *PanicError carrying the value and the
// stack of the panic, the task's scope is cancelled at once, and Wait
// returns it ahead of any plain error. Re-panic with it to crash.
//
// Executors own what they run: a caller of Offload whose context ends stops
// waiting while the function runs on; Executor.Close waits for it, for as
// long as its context allows.
//
// Streaming is bounded. Map's workers take an input from the sequence only
// when one of them is free to start it, results are not kept once yielded,
// and the workers (at most the limit, or the read-ahead with per-key limits)
// are started as inputs arrive and reused: memory depends on the limit, the
// ordering window and the read-ahead, not on the number of inputs.
// Completion order costs O(1) per result: finished work signals a channel;
// nothing selects over every pending future.
//
// Per-key limits take the key's slot before a global slot, so callers
// waiting for a busy key hold no global slot and other keys keep flowing.
// State for a key exists only while the key is held or awaited.
//
// Methods cannot have type parameters in Go, so the typed entry points (Go,
// All, Map, Offload) are functions, and Scope carries no type.
package gather
