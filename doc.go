// Package gather runs many I/O operations concurrently with bounded
// resources and hands back every result: asyncio's ideas, each with one Go
// home, context-first and typed with generics.
//
// # A short tour
//
// A Scope owns tasks. Go starts a task now and returns its Future; Wait
// joins every task of the scope and returns the first failure:
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
//	for r := range gather.Map(ctx, urls, 64, fetch, gather.PerKey(4, host)) {
//		fmt.Println(r.Index, r.Input, r.Value, r.Err)
//	}
//
// # From asyncio to gather
//
//	asyncio                                gather
//	-------                                ------
//	asyncio.create_task(coro)              Go(scope, fn) *Future[T]
//	await task / task.result()             fut.Await(ctx) / fut.Result()
//	task.done(), add_done_callback         fut.Done(), fut.OnDone(cb)
//	Future() + set_result/set_exception    NewPromise[T](); p.Resolve(v) / p.Reject(err)
//	gather(*aws)                           All(ctx, fns...)
//	gather(*aws, return_exceptions=True)   Settled(ctx, fns...)
//	as_completed(aws)                      AsCompleted(ctx, futs...)
//	as_completed over a semaphore          Map(ctx, seq, limit, fn)
//	results in order, bounded              Map(..., Ordered(window))
//	wait(aws, return_when=..., timeout)    Wait(ctx, FirstCompleted|FirstException|AllCompleted, futs...)
//	Semaphore(n)                           Limit(n) on a scope; Map's limit
//	a semaphore per host                   PerKey(n, key) on Map; KeyedLimiter
//	asyncio.timeout / wait_for             context.WithTimeout
//	task.cancel()                          scope.Cancel()
//	TaskGroup                              NewScope + Wait
//	loop.run_in_executor(None, fn)         Offload(ctx, fn)
//
// # Design choices
//
// Structured: every goroutine gather starts has an owner that waits for it.
// Tasks belong to a Scope and Wait joins them; Map joins its goroutines
// before its range statement returns, also when the loop breaks; AsCompleted
// and Wait start no goroutines at all. There are no background goroutines
// and no tickers.
//
// Cancellation is contexts. A scope's context is cancelled at the first of:
// its parent is done, Cancel, a task panics, a task fails (unless
// KeepGoing), or Wait returns. A cancelled scope starts nothing new, and a
// Go waiting for a slot under Limit stops waiting when the scope is
// cancelled, so a full scope can always be shut down from outside. Awaiting
// a future with a context only bounds the wait; it never cancels the task.
//
// Panics are errors with their stack. A panic in a task is recovered into a
// *PanicError carrying the value and the stack of the panic, the task's
// scope is cancelled at once, and Wait returns it in preference to any
// plain error. Re-panic with it to crash.
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
