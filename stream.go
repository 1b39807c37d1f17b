package gather

import (
	"context"
	"fmt"
	"iter"
	"sync"
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
	perKey    int             // PerKey: the limit per key; 0 when none
	key       any             // PerKey: a func(In) any
	keyType   string          // PerKey: the input type of key, for messages
	readAhead int             // PerKey: inputs started ahead of free slots
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

// PerKey limits Map to n inputs in progress per key, where key(input) names
// an input's key (its host, say), inside Map's global limit. The key's slot
// is taken before a global slot, so inputs waiting for a busy key do not
// hold global slots, and inputs of other keys keep flowing past them.
//
// To find inputs of other keys behind a run of inputs of a busy key, Map
// reads ahead: up to ReadAhead inputs (by default 4 times the limit) are
// taken from the sequence and wait for their slots. When all of them wait
// for busy keys, reading stops until one finishes: memory stays bounded.
//
// The type parameter In must be Map's input type; when it is not, Map
// panics.
func PerKey[In any, K comparable](n int, key func(In) K) MapOption {
	if n < 1 {
		panic(fmt.Sprintf("gather: PerKey(%d): the limit must be at least 1", n))
	}
	return func(c *mapConfig) {
		c.perKey = n
		c.key = func(in In) any { return key(in) }
		c.keyType = fmt.Sprintf("%T", *new(In))
	}
}

// ReadAhead sets how many inputs Map may hold in all, started or waiting for
// a key's slot, when PerKey is in force. n must be at least Map's limit; it
// has no effect without PerKey.
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
// stream, without the list: inputs are read from the sequence only as slots
// free up, so the sequence may be endless, and memory is bounded by the
// limit (and the window or read-ahead), never by the number of inputs. No
// goroutine or future is created ahead of its slot.
//
// fn's error is that input's Result.Err; it does not stop the stream. The
// stream stops early, after joining what is in progress, when:
//
//   - the loop breaks: calls in progress are cancelled and waited for before
//     the range statement returns, and their results are dropped;
//   - ctx is done: no new input starts; calls in progress see their context
//     cancelled and their results are still yielded;
//   - fn panics: that input's Result.Err is a *PanicError, the other calls
//     are cancelled, and their results are yielded;
//   - the input sequence panics: calls in progress are cancelled and joined,
//     then the panic is raised again in the ranging goroutine, as a
//     *PanicError that carries the original stack.
//
// Inputs are read by a goroutine of Map's, which stops at the next input
// once the stream stops; a sequence that blocks (on a pipe, say) should
// watch ctx too, because Map waits for it to return.
//
// Map panics if limit is less than 1 or an option does not fit the limit or
// the input type.
func Map[In, Out any](ctx context.Context, inputs iter.Seq[In], limit int, fn func(context.Context, In) (Out, error), opts ...MapOption) iter.Seq[Result[In, Out]] {
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
	var key func(In) any
	if cfg.key != nil {
		var ok bool
		if key, ok = cfg.key.(func(In) any); !ok {
			panic(fmt.Sprintf("gather: Map over %T with a PerKey key function for %s", *new(In), cfg.keyType))
		}
	}
	return func(yield func(Result[In, Out]) bool) {
		m := &mapRun[In, Out]{fn: fn, key: key, limit: limit, outstanding: limit}
		if key != nil {
			m.outstanding = cfg.readAhead
			if m.outstanding == 0 {
				m.outstanding = 4 * limit
			}
			m.limiter = NewKeyedLimiter[any](limit, cfg.perKey)
		}
		m.run(ctx, inputs, cfg.window, yield)
	}
}

// mapRun is one iteration of a Map. The ranging goroutine dispatches: it
// receives inputs from the feeder goroutine, starts a goroutine per input
// while fewer than outstanding are in progress, and yields results as the
// goroutines send them back.
type mapRun[In, Out any] struct {
	fn          func(context.Context, In) (Out, error)
	key         func(In) any
	limiter     *KeyedLimiter[any]
	limit       int
	outstanding int // inputs in progress at most: limit, or the read-ahead with PerKey

	ctx     context.Context
	cancel  context.CancelFunc
	results chan Result[In, Out] // buffered for every outstanding input: sends never block
	wg      sync.WaitGroup

	feedPanic error // set by the feeder before it closes the input channel
}

type indexed[In any] struct {
	index int
	input In
}

func (m *mapRun[In, Out]) run(parent context.Context, inputs iter.Seq[In], window int, yield func(Result[In, Out]) bool) {
	m.ctx, m.cancel = context.WithCancel(parent)
	m.results = make(chan Result[In, Out], m.outstanding)
	feed := make(chan indexed[In])
	m.wg.Add(1)
	go m.feed(inputs, feed)
	defer func() {
		m.cancel()
		m.wg.Wait()
		if m.feedPanic != nil {
			panic(m.feedPanic)
		}
	}()

	var order *reorder[In, Out]
	if window > 0 {
		order = newReorder[In, Out](window)
	}
	inProgress := 0
	nextIndex := 0
	for {
		canStart := feed != nil && inProgress < m.outstanding && (order == nil || order.room(nextIndex))
		if !canStart && inProgress == 0 {
			return // input exhausted or stopped, and nothing left in progress
		}
		var source chan indexed[In]
		if canStart {
			source = feed
		}
		select {
		case in, ok := <-source:
			if !ok || m.ctx.Err() != nil {
				feed = nil // a stopped stream starts nothing more
				continue
			}
			inProgress++
			nextIndex = in.index + 1
			m.wg.Add(1)
			go m.do(in)
		case r := <-m.results:
			inProgress--
			if order == nil {
				if !yield(r) {
					return
				}
				continue
			}
			if !order.put(r, yield) {
				return
			}
		}
	}
}

// feed reads the input sequence and hands each input to the dispatcher,
// until the sequence ends or the run stops.
func (m *mapRun[In, Out]) feed(inputs iter.Seq[In], out chan<- indexed[In]) {
	defer m.wg.Done()
	defer close(out)
	defer func() {
		if r := recover(); r != nil {
			m.feedPanic = recovered(r)
			m.cancel()
		}
	}()
	i := 0
	for in := range inputs {
		select {
		case out <- indexed[In]{i, in}:
			i++
		case <-m.ctx.Done():
			return
		}
	}
}

// do runs fn for one input and sends its result.
func (m *mapRun[In, Out]) do(in indexed[In]) {
	r := Result[In, Out]{Index: in.index, Input: in.input, Err: errGoexit}
	defer func() {
		if p := recover(); p != nil {
			r.Err = recovered(p)
		}
		if isPanic(r.Err) {
			m.cancel()
		}
		m.results <- r
		m.wg.Done()
	}()
	if m.limiter != nil {
		k := m.key(in.input)
		if err := m.limiter.Acquire(m.ctx, k); err != nil {
			r.Err = err
			return
		}
		defer m.limiter.Release(k) // runs before the send above: the slot frees first
	}
	r.Value, r.Err = m.fn(m.ctx, in.input)
}

// reorder holds results that completed ahead of an earlier one, in a ring of
// window slots indexed by input position.
type reorder[In, Out any] struct {
	slots []Result[In, Out]
	full  []bool
	next  int // index of the next result to yield
}

func newReorder[In, Out any](window int) *reorder[In, Out] {
	return &reorder[In, Out]{slots: make([]Result[In, Out], window), full: make([]bool, window)}
}

// room reports whether input index may start: it must fall inside the
// window that begins at the oldest result not yet yielded.
func (o *reorder[In, Out]) room(index int) bool { return index-o.next < len(o.slots) }

// put stores r and yields every result that is now next in order. It
// reports false when yield asked to stop.
func (o *reorder[In, Out]) put(r Result[In, Out], yield func(Result[In, Out]) bool) bool {
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
