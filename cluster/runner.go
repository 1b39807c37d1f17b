package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/nats-io/nats.go/jetstream"
)

// A runner is one worker's work on one job (one epoch of it): the leases
// of its partitions, and a partWork for each partition it holds.
type runner struct {
	w      *Worker
	spec   *Spec
	owner  string // the value of its leases: the worker's name and a random suffix
	client *fetch.Client
	leases jetstream.KeyValue

	ctx      context.Context // cancelled: the inputs held are given back
	cancel   context.CancelFunc
	stopOnce sync.Once
	stopping chan struct{} // closed: start nothing new, finish, let go
	done     chan struct{} // closed when the runner has ended

	// slots holds a token per input held: 2 x Concurrency at most, the
	// ones in flight and as many read ahead, so that a partition is
	// pulled in batches while the inputs before run.
	slots chan struct{}

	gone     atomic.Bool // the job ended: nothing of it is left on the server
	orphaned time.Time   // since when the job's coordinator is gone (the lease loop's)

	parts map[int]*part // the partitions held (the lease loop's)
}

// A part is a partition a runner holds.
type part struct {
	rev      uint64    // the lease's revision
	renewed  time.Time // when the lease was last renewed
	cancel   context.CancelFunc
	drain    chan struct{} // closed: stop pulling
	done     chan struct{} // closed when its partWork ended
	draining bool
	lost     bool // the lease was lost: it is not ours to delete
	// watchdog cancels the partition's work when the lease has not been
	// renewed for three quarters of its TTL, whatever the lease loop is
	// doing (a worker thawed after a pause must not go on with a
	// partition another worker may hold by now).
	watchdog *time.Timer
}

// start starts a runner of spec.
func (w *Worker) start(ctx context.Context, spec *Spec) (*runner, error) {
	cfg, err := spec.clientConfig(w.Concurrency)
	if err != nil {
		return nil, err
	}
	client, err := fetch.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("the job's settings: %w", err)
	}
	leases, err := w.JS.KeyValue(ctx, leaseBucket(spec.ID))
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("the job's leases: %w", err)
	}
	r := &runner{w: w, spec: spec, owner: keyName(w.Name) + "-" + randomSuffix(), client: client, leases: leases,
		stopping: make(chan struct{}), done: make(chan struct{}), slots: make(chan struct{}, 2*w.Concurrency),
		parts: map[int]*part{}}
	r.ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	unlink := context.AfterFunc(ctx, r.cancel)
	go func() {
		defer unlink()
		r.leaseLoop()
	}()
	return r, nil
}

// stopStarting asks the runner to start nothing new, finish what it
// holds and let its partitions go.
func (r *runner) stopStarting() { r.stopOnce.Do(func() { close(r.stopping) }) }

func (r *runner) isStopping() bool {
	select {
	case <-r.stopping:
		return true
	default:
		return false
	}
}

func leaseKey(p int) string { return "p." + strconv.Itoa(p) }

// leaseLoop keeps the runner's leases: every quarter of the lease TTL it
// says it is alive, renews its leases, lets go of partitions beyond its
// fair share (once their inputs held are finished) and takes free ones up
// to it. The fair share is the partitions divided by the workers alive,
// rounded up.
func (r *runner) leaseLoop() {
	defer close(r.done)
	defer r.client.Close()
	tick := time.NewTicker(r.spec.LeaseTTL / 4)
	defer tick.Stop()
	alive := "w." + r.owner
	defer func() {
		for _, p := range r.parts {
			p.watchdog.Stop()
			p.cancel()
			<-p.done
		}
		if r.gone.Load() {
			return // the job's bucket is gone with it
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for n, p := range r.parts {
			if !p.lost {
				r.leases.Delete(ctx, leaseKey(n), jetstream.LastRevision(p.rev))
			}
		}
		r.leases.Delete(ctx, alive)
	}()
	stopping := r.stopping // a tend at once when it closes, then by the tick
	for {
		r.tend(alive)
		if r.isStopping() && len(r.parts) == 0 {
			return
		}
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		case <-stopping:
			stopping = nil
		}
	}
}

// tend is one round of leaseLoop.
func (r *runner) tend(alive string) {
	// Each call on the server has its own time limit, so that one slow
	// answer does not fail the others of the round.
	ctx := r.ctx
	if _, err := withTimeout(ctx, r.spec.LeaseTTL/3, func(ctx context.Context) (uint64, error) {
		return r.leases.Put(ctx, alive, nil)
	}); err != nil && r.ctx.Err() == nil {
		r.w.Log.Warn("cannot reach the server", "job", r.spec.ID, "error", err)
	}
	// A job whose coordinator is gone (killed, and not started again)
	// for two lease TTLs is let go: its inputs would be run for nothing,
	// the next coordinator purging them.
	if _, err := withTimeout(ctx, r.spec.LeaseTTL/3, func(ctx context.Context) (jetstream.KeyValueEntry, error) {
		return r.leases.Get(ctx, coordinatorKey)
	}); errors.Is(err, jetstream.ErrKeyNotFound) {
		if r.orphaned.IsZero() {
			r.orphaned = time.Now()
		} else if time.Since(r.orphaned) > 2*r.spec.LeaseTTL && !r.isStopping() {
			r.w.Log.Info("job let go: its coordinator is gone", "job", r.spec.ID)
			r.stopStarting()
		}
	} else if err == nil {
		r.orphaned = time.Time{}
	}
	// Partitions whose work ended: a drained one's lease is deleted.
	for n, p := range r.parts {
		select {
		case <-p.done:
		default:
			continue
		}
		p.watchdog.Stop()
		if !p.lost { // if the server cannot be told, the lease expires
			withTimeout(ctx, r.spec.LeaseTTL/3, func(ctx context.Context) (uint64, error) {
				return 0, r.leases.Delete(ctx, leaseKey(n), jetstream.LastRevision(p.rev))
			})
		}
		delete(r.parts, n)
	}
	// Renew; a lease not renewed for three quarters of its TTL may be
	// another's soon: its work is given back now.
	for n, p := range r.parts {
		if p.lost {
			continue
		}
		asked := time.Now() // the lease runs from when the server stored it: no earlier than this
		rev, err := withTimeout(ctx, r.spec.LeaseTTL/3, func(ctx context.Context) (uint64, error) {
			return r.leases.Update(ctx, leaseKey(n), []byte(r.owner), p.rev)
		})
		if err == nil {
			p.rev, p.renewed = rev, asked
			p.watchdog.Reset(r.spec.LeaseTTL*3/4 - time.Since(asked))
			continue
		}
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) || time.Since(p.renewed) > r.spec.LeaseTTL*3/4 {
			r.w.Log.Warn("partition lost", "job", r.spec.ID, "partition", n, "error", err)
			p.lost = true
			p.cancel()
		}
	}
	active := 0
	for _, p := range r.parts {
		if !p.draining && !p.lost {
			active++
		}
	}
	fair := 0
	if !r.isStopping() {
		workers, err := withTimeout(ctx, r.spec.LeaseTTL/3, r.countWorkers)
		if err != nil {
			return
		}
		fair = (r.spec.Partitions + workers - 1) / workers
	}
	r.w.Log.Debug("leases", "job", r.spec.ID, "held", len(r.parts), "active", active, "fair", fair)
	for _, p := range r.parts { // let go of the ones beyond the fair share
		if active <= fair {
			break
		}
		if !p.draining && !p.lost {
			p.draining = true
			close(p.drain)
			active--
		}
	}
	if active >= fair {
		return
	}
	for _, n := range rand.Perm(r.spec.Partitions) { // take free ones up to it
		if active >= fair {
			break
		}
		if _, held := r.parts[n]; held {
			continue
		}
		asked := time.Now()
		rev, err := withTimeout(ctx, r.spec.LeaseTTL/3, func(ctx context.Context) (uint64, error) {
			return r.leases.Create(ctx, leaseKey(n), []byte(r.owner))
		})
		if err != nil {
			continue // another's
		}
		if _, err := withTimeout(ctx, r.spec.LeaseTTL/3, func(ctx context.Context) (int, error) {
			return 0, r.startPart(ctx, n, rev, asked)
		}); err != nil {
			withTimeout(ctx, r.spec.LeaseTTL/3, func(ctx context.Context) (uint64, error) {
				return 0, r.leases.Delete(ctx, leaseKey(n), jetstream.LastRevision(rev))
			})
			continue
		}
		active++
	}
}

// withTimeout calls f with ctx limited to d.
func withTimeout[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

// countWorkers returns the workers of the job alive (this one included).
func (r *runner) countWorkers(ctx context.Context) (int, error) {
	lister, err := r.leases.ListKeysFiltered(ctx, "w.*")
	if err != nil {
		return 0, err
	}
	defer lister.Stop()
	n := 0
	for range lister.Keys() {
		n++
	}
	if ctx.Err() != nil { // the listing was cut short: too few
		return 0, ctx.Err()
	}
	return max(n, 1), nil
}

// startPart starts the work of partition n, its lease taken at rev (asked
// for at asked).
func (r *runner) startPart(ctx context.Context, n int, rev uint64, asked time.Time) error {
	cons, err := r.w.JS.Consumer(ctx, workStream(r.spec.ID), partitionConsumer(n))
	if err != nil {
		return err
	}
	pctx, cancel := context.WithCancel(r.ctx)
	p := &part{rev: rev, renewed: asked, cancel: cancel, drain: make(chan struct{}), done: make(chan struct{}),
		watchdog: time.AfterFunc(r.spec.LeaseTTL*3/4-time.Since(asked), cancel)}
	r.parts[n] = p
	go func() {
		defer close(p.done)
		r.partWork(pctx, p.drain, cons)
	}()
	return nil
}

// acquire takes one slot, waiting, and then up to more-1 others if free;
// it returns the slots taken (0 when drain or ctx ended first).
func (r *runner) acquire(ctx context.Context, drain <-chan struct{}, more int) int {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	case <-drain:
		return 0
	}
	n := 1
	for n < more {
		select {
		case r.slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// release gives back n slots.
func (r *runner) release(n int) {
	for range n {
		<-r.slots
	}
}

// pull pulls a partition's inputs, one slot each, and gives each to take
// (which releases its slot when done with it) until drain or ctx ends or
// take returns false. Inputs are pulled in batches as slots allow; a
// partition found empty is waited on with one slot (a long poll of up to
// a second), so that an input published to it is taken at once.
func (r *runner) pull(ctx context.Context, drain <-chan struct{}, cons jetstream.Consumer, take func(jetstream.Msg) bool) {
	empty := false
	for {
		k := 1
		if !empty {
			k = min(r.w.Concurrency, 256)
		}
		if k = r.acquire(ctx, drain, k); k == 0 {
			return
		}
		var batch jetstream.MessageBatch
		var err error
		endPoll := func() {}
		if empty {
			var poll context.Context
			poll, endPoll = context.WithTimeout(ctx, time.Second)
			batch, err = cons.Fetch(1, jetstream.FetchContext(poll))
		} else {
			batch, err = cons.FetchNoWait(k)
		}
		got := 0
		if err == nil {
			for msg := range batch.Messages() {
				got++
				if !take(msg) {
					for msg := range batch.Messages() {
						msg.Nak() // given back at once, rather than after the ack wait
					}
					endPoll()
					r.release(k - got)
					return
				}
			}
		}
		endPoll()
		r.release(k - got)
		if err != nil { // the server away: not a busy loop
			select {
			case <-ctx.Done():
				return
			case <-drain:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
		empty = got == 0
	}
}

// keepAlive tells the server, every third of the ack wait, that the
// inputs held are still being worked on.
func (r *runner) keepAlive(ctx context.Context, each func(func(jetstream.Msg))) {
	tick := time.NewTicker(r.spec.AckWait / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			each(func(m jetstream.Msg) { m.InProgress() })
		}
	}
}
