package gather

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"sync"

	"golang.org/x/sync/semaphore"
)

// A Result is the outcome of one input of Map: the input itself, its
// 0-based position in the input sequence, and what the function returned
// for it. Results never lose track of their inputs.
type Result[In, Out any] struct {
	Index int
	Input In
	Value Out
	Err   error
}

// A MapOption configures Map.
type MapOption func(*mapConfig)

type mapConfig struct {
	window    int             // Ordered: the reordering window; 0 when unordered
	readAhead int             // MapKeyed: inputs started ahead of free slots
	check     func(int) error // validation against the global limit
}

// Ordered makes Map yield results in input order. Results that complete
// ahead of an unfinished earlier one wait in a reordering window: at most
// window inputs are in progress or waiting, counted from the oldest result
// not yet yielded. window must be at least Map's limit; when it is smaller
// Map panics.
//
// Sizing the window: a slow input at the head of the line holds back every
// result after it. While it runs, the window still lets window-1 later
// inputs start and finish, so with tasks of typical duration t and a head
// that takes H, throughput stays at the full limit/t as long as
// window >= limit * (1 + H/t) roughly, and falls towards window/H below
// that. Twice to four times the limit absorbs ordinary jitter; a tail that is
// 10x the typical duration needs about 10x the limit. Memory grows with the
// window: one Result per slot.
func Ordered(window int) MapOption {
	return func(c *mapConfig) {
		c.window = window
		c.check = chainCheck(c.check, func(limit int) error {
			if window < limit {
				return fmt.Errorf("Ordered(%d): the window must be at least the limit %d", window, limit)
			}
			return nil
		})
	}
}

// A KeyLimit is a limit of inputs in progress per key, for MapKeyed: make
// it with PerKey.
type KeyLimit[In any, K comparable] struct {
	n   int
	key func(In) K
}

// PerKey returns a limit of n inputs in progress per key, where key(input)
// names an input's key (its host, say), for MapKeyed. Its type carries
// the input type: a key function for other inputs than MapKeyed's does not
// compile. PerKey panics if n is less than 1.
func PerKey[In any, K comparable](n int, key func(In) K) KeyLimit[In, K] {
	if n < 1 {
		panic(fmt.Sprintf("gather: PerKey(%d): the limit must be at least 1", n))
	}
	return KeyLimit[In, K]{n: n, key: key}
}

// ReadAhead sets how many inputs MapKeyed may hold in all, started or
// waiting for a key's slot (by default 4 times the limit). n must be at
// least the limit; it has no effect on Map.
func ReadAhead(n int) MapOption {
	return func(c *mapConfig) {
		c.readAhead = n
		c.check = chainCheck(c.check, func(limit int) error {
			if n < limit {
				return fmt.Errorf("ReadAhead(%d): must be at least the limit %d", n, limit)
			}
			return nil
		})
	}
}

func chainCheck(prev, next func(int) error) func(int) error {
	if prev == nil {
		return next
	}
	return func(limit int) error {
		if err := prev(limit); err != nil {
			return err
		}
		return next(limit)
	}
}

// Map calls fn for each input of inputs, with at most limit calls in
// progress, and yields one Result per input as each completes (or in input
// order, with Ordered). It is asyncio.as_completed over a semaphore-bounded
// stream, without the list: inputs are read from the sequence only when a
// worker is free to take one, so the sequence may be endless, and memory is
// bounded by the limit (and the window or read-ahead), never by the number
// of inputs. Map starts its worker goroutines as inputs arrive, at most
// limit of them, and reuses them.
//
// fn's error is that input's Result.Err; it does not stop the stream, even
// when it wraps a *PanicError. The stream stops early, after joining what is
// in progress, when:
//
//   - the loop breaks: calls in progress are cancelled and waited for before
//     the range statement returns, and their results are dropped;
//   - ctx is done: no new input starts; calls in progress see their context
//     cancelled and their results are still yielded;
//   - fn panics (or calls runtime.Goexit): that input's Result.Err is a
//     *PanicError, the other calls are cancelled, and their results are
//     yielded;
//   - the input sequence panics (or calls runtime.Goexit): calls in progress
//     are cancelled and joined, then the panic is raised again in the
//     ranging goroutine, as a *PanicError that carries the original stack.
//
// The sequence is read by Map's workers, one at a time. Map must wait for a
// read in progress before it can return, and the sequence cannot see Map's
// own cancellation: a sequence that can block for long (on a pipe, a
// network, a channel) should stop when a context its owner controls is
// done, or be closed by its owner, or a break waits for its next input.
//
// Map panics if limit is less than 1 or an option does not fit the limit.
func Map[In, Out any](ctx context.Context, inputs iter.Seq[In], limit int, fn func(context.Context, In) (Out, error), opts ...MapOption) iter.Seq[Result[In, Out]] {
	return mapWith(ctx, inputs, limit, nil, 0, fn, opts)
}

// MapKeyed is Map with a limit per key as well (per, made by PerKey),
// inside the global limit: at most per's n inputs in progress for any one
// key. The key's slot is taken before a global slot, so inputs waiting for
// a busy key do not hold global slots, and inputs of other keys keep
// flowing past them: a slow host does not hold the others back.
//
// To find inputs of other keys behind a run of inputs of a busy key,
// MapKeyed reads ahead: up to ReadAhead inputs (by default 4 times the
// limit) are taken from the sequence and wait for their slots. When all of
// them wait for busy keys, reading stops until one finishes: memory stays
// bounded. When ctx is done, inputs read ahead and waiting for their key
// are yielded with ctx's error. Everything else is as for Map.
func MapKeyed[In, Out any, K comparable](ctx context.Context, inputs iter.Seq[In], limit int, per KeyLimit[In, K], fn func(context.Context, In) (Out, error), opts ...MapOption) iter.Seq[Result[In, Out]] {
	if per.key == nil {
		panic("gather: MapKeyed: a KeyLimit not made by PerKey")
	}
	key := per.key
	return mapWith(ctx, inputs, limit, func(in In) any { return key(in) }, per.n, fn, opts)
}

// mapWith is Map, and with key MapKeyed.
func mapWith[In, Out any](ctx context.Context, inputs iter.Seq[In], limit int, key func(In) any, perKey int, fn func(context.Context, In) (Out, error), opts []MapOption) iter.Seq[Result[In, Out]] {
	if limit < 1 {
		panic(fmt.Sprintf("gather: Map with limit %d: the limit must be at least 1", limit))
	}
	var cfg mapConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.check != nil {
		if err := cfg.check(limit); err != nil {
			panic("gather: Map: " + err.Error())
		}
	}
	return func(yield func(Result[In, Out]) bool) {
		m := &mapRun[In, Out]{fn: fn, key: key, workers: limit, window: cfg.window}
		if key != nil {
			m.workers = cfg.readAhead
			if m.workers == 0 {
				m.workers = limit
				if limit <= math.MaxInt/4 {
					m.workers = 4 * limit
				}
			}
			m.limiter = NewKeyedLimiter[any](limit, perKey)
		}
		m.run(ctx, inputs, yield)
	}
}

// resultBuffer caps the buffer of the channel results travel on. Workers
// that find it full wait; it only smooths bursts.
const resultBuffer = 256

// mapRun is one iteration of a Map. Workers, started as inputs arrive and
// at most workers of them, each loop: take the next input from the sequence
// (one at a time, under mu), run fn on it, send the result to the ranging
// goroutine, which yields it. Under Map, workers is the limit; under MapKeyed,
// workers is the read-ahead and the KeyedLimiter enforces the limit.
type mapRun[In, Out any] struct {
	fn      func(context.Context, In) (Out, error)
	key     func(In) any
	limiter *KeyedLimiter[any]
	workers int
	window  int // Ordered's window; 0 when unordered

	ctx     context.Context
	done    <-chan struct{} // ctx.Done()
	cancel  context.CancelFunc
	stopped chan struct{}        // closed when the ranging loop stops early
	results chan Result[In, Out] // closed by the last worker to exit
	room    *semaphore.Weighted  // Ordered: one unit per input between the oldest unyielded and the newest started
	wg      sync.WaitGroup

	mu        sync.Mutex // guards the fields below
	next      func() (In, bool)
	index     int   // index of the next input
	started   int   // workers started
	live      int   // workers not yet exited
	exhausted bool  // no more inputs: the sequence ended, panicked or the run stopped
	seqPanic  error // the sequence's panic, raised again in the ranging goroutine
}

// errSeqGoexit is raised in the ranging goroutine when the input sequence
// called runtime.Goexit.
var errSeqGoexit = errors.New("gather: Map's input sequence called runtime.Goexit")

func (m *mapRun[In, Out]) run(parent context.Context, inputs iter.Seq[In], yield func(Result[In, Out]) bool) {
	m.ctx, m.cancel = context.WithCancel(parent)
	m.done = m.ctx.Done()
	m.stopped = make(chan struct{})
	m.results = make(chan Result[In, Out], min(m.workers, resultBuffer))
	var order *reorder[In, Out]
	if m.window > 0 {
		order = newReorder[In, Out](m.window)
		m.room = semaphore.NewWeighted(int64(m.window))
	}
	next, stop := iter.Pull(m.guard(inputs))
	m.next = next
	defer func() {
		close(m.stopped)
		m.cancel()
		m.wg.Wait()
		stop()
		if m.seqPanic != nil {
			panic(m.seqPanic)
		}
	}()

	m.mu.Lock()
	m.spawn()
	m.mu.Unlock()
	for r := range m.results {
		if order == nil {
			if !yield(r) {
				return
			}
			continue
		}
		if !order.put(r, func(r Result[In, Out]) bool {
			if !yield(r) {
				return false
			}
			m.room.Release(1) // only now may an input window places later start
			return true
		}) {
			return
		}
	}
}

// guard wraps the input sequence so that a panic in it ends the sequence
// and is kept, with the stack of the sequence's own frames, in m.seqPanic.
// It runs inside pull, under m.mu.
func (m *mapRun[In, Out]) guard(inputs iter.Seq[In]) iter.Seq[In] {
	return func(yield func(In) bool) {
		defer func() {
			if r := recover(); r != nil {
				m.seqPanic = recovered(r)
			}
		}()
		inputs(yield)
	}
}

// spawn starts a worker; m.mu must be held.
func (m *mapRun[In, Out]) spawn() {
	m.started++
	m.live++
	m.wg.Add(1)
	go m.work()
}

func (m *mapRun[In, Out]) work() {
	defer m.wg.Done()
	defer func() {
		m.mu.Lock()
		m.live--
		last := m.live == 0
		m.mu.Unlock()
		if last {
			close(m.results)
		}
	}()
	for {
		if m.room != nil && m.room.Acquire(m.ctx, 1) != nil {
			return
		}
		in, index, ok := m.pull()
		if !ok {
			if m.room != nil {
				m.room.Release(1) // unused: another worker may be waiting for it
			}
			return
		}
		if !m.send(m.do(index, in)) {
			return
		}
	}
}

// pull takes the next input from the sequence, and starts another worker if
// the run may use more. It reports false when there are no more inputs or
// the run has stopped.
func (m *mapRun[In, Out]) pull() (in In, index int, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.exhausted {
		return in, 0, false
	}
	select {
	case <-m.done:
		m.exhausted = true // a stopped run starts nothing more
		return in, 0, false
	default:
	}
	returned := false
	defer func() {
		if !returned { // the sequence called runtime.Goexit, which ends this worker too
			m.seqPanic = errSeqGoexit
			m.exhausted = true
			m.cancel()
		}
	}()
	in, ok = m.next()
	returned = true
	if !ok {
		m.exhausted = true
		if m.seqPanic != nil {
			m.cancel()
		}
		return in, 0, false
	}
	index = m.index
	m.index++
	if m.started < m.workers {
		m.spawn()
	}
	return in, index, true
}

// do runs fn for one input and returns its result.
func (m *mapRun[In, Out]) do(index int, in In) (r Result[In, Out]) {
	r = Result[In, Out]{Index: index, Input: in, Err: errGoexit}
	returned := false
	defer func() {
		if returned {
			return
		}
		// fn panicked or called runtime.Goexit: the stream stops.
		if p := recover(); p != nil {
			r.Err = recovered(p)
		}
		m.cancel()
		if r.Err == errGoexit {
			// runtime.Goexit: this worker is exiting without returning to
			// its loop, so it sends the result here.
			m.send(r)
		}
	}()
	if m.limiter != nil {
		k := m.key(in)
		if err := m.limiter.Acquire(m.ctx, k); err != nil {
			r.Err = err
			returned = true
			return r
		}
		defer m.limiter.Release(k)
	}
	r.Value, r.Err = m.fn(m.ctx, in)
	returned = true
	return r
}

// send hands r to the ranging goroutine, unless the loop has stopped. It
// reports whether r was sent.
func (m *mapRun[In, Out]) send(r Result[In, Out]) bool {
	// Most sends find room in the buffer: a send alone locks one channel,
	// where the select below locks both.
	select {
	case m.results <- r:
		return true
	default:
	}
	select {
	case m.results <- r:
		return true
	case <-m.stopped:
		return false
	}
}

// reorder holds results that completed ahead of an earlier one, in a ring
// indexed by input position. The ring starts small and doubles as needed,
// up to the window.
type reorder[In, Out any] struct {
	slots  []Result[In, Out]
	full   []bool
	next   int // index of the next result to yield
	window int
}

func newReorder[In, Out any](window int) *reorder[In, Out] {
	n := min(window, 64)
	return &reorder[In, Out]{slots: make([]Result[In, Out], n), full: make([]bool, n), window: window}
}

// put stores r and yields every result that is now next in order. It
// reports false when yield asked to stop.
func (o *reorder[In, Out]) put(r Result[In, Out], yield func(Result[In, Out]) bool) bool {
	for r.Index-o.next >= len(o.slots) {
		if len(o.slots) == o.window {
			panic(fmt.Sprintf("gather: internal error: result %d outside the window of %d at %d", r.Index, o.window, o.next))
		}
		o.grow()
	}
	n := len(o.slots)
	o.slots[r.Index%n], o.full[r.Index%n] = r, true
	for o.full[o.next%n] {
		i := o.next % n
		r := o.slots[i]
		o.slots[i], o.full[i] = Result[In, Out]{}, false
		o.next++
		if !yield(r) {
			return false
		}
	}
	return true
}

// grow doubles the ring (never beyond the window), keeping each held result
// at its index modulo the new size.
func (o *reorder[In, Out]) grow() {
	n := min(2*len(o.slots), o.window)
	slots, full := make([]Result[In, Out], n), make([]bool, n)
	for i, ok := range o.full {
		if ok {
			r := o.slots[i]
			slots[r.Index%n], full[r.Index%n] = r, true
		}
	}
	o.slots, o.full = slots, full
}
