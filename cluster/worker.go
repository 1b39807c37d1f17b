package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/run"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultConcurrency is a worker's default number of inputs held (and
// requests in flight) at once.
const DefaultConcurrency = 64

// A Worker runs the inputs of every job its server holds: it watches
// JobsBucket, and for each job takes a fair share of its partitions (see
// the package documentation), pulls their inputs, fetches them with the
// job's settings and publishes the results.
type Worker struct {
	// JS is the JetStream context of the connection to the server.
	JS jetstream.JetStream
	// Name names the worker in the coordinator's summary (default:
	// host name and process ID).
	Name string
	// Concurrency bounds the worker's requests in flight per job
	// (default DefaultConcurrency); it holds at most twice as many
	// inputs unacknowledged, the ones in flight and as many read ahead.
	Concurrency int
	// Log receives the worker's notes (jobs taken and let go, errors);
	// nil for none.
	Log *slog.Logger
}

// Run works until stop or ctx ends. When stop ends, the worker starts no
// new input, finishes the ones it holds, publishes their results, lets
// its partitions go, and returns. When ctx ends, the inputs it holds are
// given back to the server at once (negatively acknowledged) and Run
// returns. It returns an error only when it cannot watch the jobs.
func (w *Worker) Run(ctx, stop context.Context) error {
	if w.Concurrency == 0 {
		w.Concurrency = DefaultConcurrency
	}
	if w.Concurrency < 1 {
		return fmt.Errorf("a worker's concurrency must be at least 1, got %d", w.Concurrency)
	}
	if w.Name == "" {
		host, _ := os.Hostname()
		w.Name = host + "-" + strconv.Itoa(os.Getpid())
	}
	if w.Log == nil {
		w.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	jobs := &jobTable{w: w, ctx: ctx, runners: map[string]*runner{}}
	defer func() { jobs.end(ctx.Err() != nil) }()
	var watch jetstream.KeyWatcher
	var updates <-chan jetstream.KeyValueEntry
	endWatch := func() {}
	defer func() { endWatch() }()
	// The jobs are watched, and also listed every reconcileEvery: a
	// server that restarted without its store has lost the bucket and the
	// watch with it (they are made again), and an update missed while the
	// server was away is caught.
	tick := time.NewTicker(reconcileEvery)
	defer tick.Stop()
	// The calls that watch and list the jobs end with a stop too: a
	// server not answering does not hold a stopping worker.
	watching, endWatching := context.WithCancel(ctx)
	defer endWatching()
	defer context.AfterFunc(stop, endWatching)()
	for {
		if watch == nil {
			if kv, err := jobsBucket(watching, w.JS); err == nil {
				// The watch ends with its context: its end does not
				// wait for a server that is down.
				wctx, cancel := context.WithCancel(watching)
				if watch, err = kv.WatchAll(wctx); err == nil {
					updates, endWatch = watch.Updates(), cancel
					jobs.reconcile(watching, kv)
				} else {
					cancel()
					watch = nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-stop.Done():
			return nil
		case <-tick.C:
			jobs.prune()
			kv, err := jobsBucket(watching, w.JS)
			if err != nil {
				continue
			}
			if !jobs.reconcile(watching, kv) { // the watch missed something: made again
				endWatch()
				watch, updates, endWatch = nil, nil, func() {}
			}
		case e, ok := <-updates:
			if !ok {
				endWatch()
				watch, updates, endWatch = nil, nil, func() {}
				continue
			}
			if e == nil {
				continue // the jobs there were are all seen
			}
			if e.Operation() == jetstream.KeyValuePut {
				_ = jobs.put(e.Key(), e.Value())
			} else {
				jobs.remove(e.Key())
			}
		}
	}
}

// reconcileEvery is how often a worker lists the jobs beside its watch.
const reconcileEvery = 5 * time.Second

// jobTable is a worker's runners, one per job, and the ones ending.
type jobTable struct {
	w       *Worker
	ctx     context.Context
	runners map[string]*runner // by job ID, the current epoch's
	ending  []*runner          // let go, not yet ended
}

// put takes a job's spec as put in the jobs bucket: a job not run yet,
// or a new epoch of one, starts a runner; the runner of an earlier epoch
// is let go (it finishes what it holds, without holding anything up). A
// runner that let its job go (its coordinator was gone) is started again
// once the coordinator is back. It reports whether a runner started.
func (t *jobTable) put(id string, value []byte) bool {
	spec, err := decodeSpec(value)
	if err != nil {
		t.w.Log.Error("job refused", "job", id, "error", err)
		return false
	}
	r := t.runners[id]
	switch {
	case r != nil && spec.Epoch < r.spec.Epoch:
		return false // an earlier run's spec, come late
	case r != nil && spec.Epoch == r.spec.Epoch && spec.Stopping:
		r.stopStarting()
		return false
	case r != nil && spec.Epoch == r.spec.Epoch && (!r.ended() || !t.coordinatorAlive(r)):
		return false
	case r != nil: // a new run of the job's coordinator, or the same one back
		r.stopStarting()
		t.ending = append(t.ending, r)
		delete(t.runners, id)
	}
	if spec.Stopping {
		return false
	}
	r, err = t.w.start(t.ctx, spec)
	if err != nil {
		t.w.Log.Error("job not started", "job", id, "error", err)
		return false
	}
	t.runners[id] = r
	t.w.Log.Info("job started", "job", id, "partitions", spec.Partitions)
	return true
}

// coordinatorAlive reports whether r's job has its coordinator (of r's
// epoch) again.
func (t *jobTable) coordinatorAlive(r *runner) bool {
	ctx, cancel := context.WithTimeout(t.ctx, r.spec.LeaseTTL/3)
	defer cancel()
	e, err := r.leases.Get(ctx, coordinatorKey)
	return err == nil && string(e.Value()) == strconv.FormatInt(r.spec.Epoch, 10)
}

// remove lets a job go: it ended, and its coordinator needs nothing more.
func (t *jobTable) remove(id string) {
	r := t.runners[id]
	if r == nil {
		return
	}
	r.gone.Store(true)
	r.cancel()
	t.ending = append(t.ending, r)
	delete(t.runners, id)
	t.w.Log.Info("job ended", "job", id)
}

// reconcile lists the jobs and makes the runners match them; it reports
// whether they did already.
func (t *jobTable) reconcile(ctx context.Context, kv jetstream.KeyValue) bool {
	ctx, cancel := context.WithTimeout(ctx, reconcileEvery)
	defer cancel()
	keys, err := kv.Keys(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return true // cannot tell: the watch stays
	}
	matched := true
	present := map[string]bool{}
	for _, id := range keys {
		present[id] = true
		e, err := kv.Get(ctx, id)
		if err != nil {
			continue
		}
		if r := t.runners[id]; (r == nil || !sameEpoch(r.spec, e.Value()) || r.ended()) && t.put(id, e.Value()) {
			matched = false
		}
	}
	for id := range t.runners {
		if !present[id] {
			matched = false
			t.remove(id)
		}
	}
	return matched
}

func sameEpoch(s *Spec, value []byte) bool {
	spec, err := decodeSpec(value)
	return err == nil && spec.Epoch == s.Epoch
}

// ended reports whether the runner has ended.
func (r *runner) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// prune forgets the runners that ended.
func (t *jobTable) prune() {
	t.ending = slices.DeleteFunc(t.ending, (*runner).ended)
}

// end ends every runner, gracefully unless cancelled, and waits for them.
func (t *jobTable) end(cancelled bool) {
	for _, r := range t.runners {
		if cancelled {
			r.cancel()
		} else {
			r.stopStarting()
		}
		t.ending = append(t.ending, r)
	}
	for _, r := range t.ending {
		<-r.done
	}
}

// keyName makes a name fit a key of a bucket.
func keyName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

func randomSuffix() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// partWork runs one partition's inputs while its lease is held: it pulls
// them (holding at most the runner's slots), fetches them through the
// runner's client, publishes each result and then acknowledges the input.
// Closing drain stops the pulling and lets the inputs held finish;
// cancelling ctx gives them back (negative acknowledgements).
func (r *runner) partWork(ctx context.Context, drain <-chan struct{}, cons jetstream.Consumer) {
	type heldMsg struct {
		msg   jetstream.Msg
		line  int
		epoch int64
	}
	var mu sync.Mutex
	held := map[int]heldMsg{}             // pulled, not yet done
	confirming := map[int]jetstream.Msg{} // done, the result not yet confirmed
	reqs := make(chan fetch.Request)
	var wg sync.WaitGroup
	defer wg.Wait()
	working, stopWorking := context.WithCancel(ctx) // ends the signs of life
	defer stopWorking()
	wg.Go(func() {
		defer close(reqs)
		seq := 0
		r.pull(ctx, drain, cons, func(msg jetstream.Msg) bool {
			wk, err := decodeWork(msg.Data())
			if err != nil {
				r.w.Log.Error("input dropped", "job", r.spec.ID, "error", err)
				msg.Term()
				r.release(1)
				return true
			}
			seq++
			mu.Lock()
			held[seq] = heldMsg{msg, wk.Line, wk.Epoch}
			mu.Unlock()
			select {
			case reqs <- wk.request(seq):
				return true
			case <-ctx.Done():
				mu.Lock()
				delete(held, seq)
				mu.Unlock()
				msg.Nak()
				r.release(1)
				return false
			}
		})
	})
	wg.Go(func() { // signs of life for the inputs held, so that a long one is not given to another worker
		r.keepAlive(working, func(f func(jetstream.Msg)) {
			mu.Lock()
			defer mu.Unlock()
			for _, h := range held {
				f(h.msg)
			}
			for _, m := range confirming {
				f(m)
			}
		})
	})
	feed := func(yield func(fetch.Request) bool) {
		for req := range reqs {
			if !yield(req) {
				return
			}
		}
	}
	// Results are published without waiting for the server's
	// acknowledgement; confirm waits for them in order, then acknowledges
	// each input (so an input is let go only once its result is kept)
	// and frees its slot.
	confirms := make(chan confirm, r.w.Concurrency)
	wg.Go(func() { r.confirm(confirms) })
	defer close(confirms) // before wg.Wait: confirm ends once it has confirmed all
	for rec := range r.client.Run(ctx, feed) {
		seq := rec.Line
		mu.Lock()
		h := held[seq]
		delete(held, seq)
		mu.Unlock()
		rec.Line = h.line
		if rec.Error != nil && rec.Error.Kind == fetch.KindCanceled && ctx.Err() != nil {
			h.msg.Nak() // given back: another worker runs it
			r.release(1)
			continue
		}
		data := r.resultData(h.epoch, rec)
		fut, err := r.w.JS.PublishAsync(resultSubject(r.spec.ID), data)
		mu.Lock()
		confirming[seq] = h.msg
		mu.Unlock()
		confirms <- confirm{fut: fut, err: err, data: data, msg: h.msg, done: func() {
			mu.Lock()
			delete(confirming, seq)
			mu.Unlock()
		}}
	}
	// Inputs handed over but not started when the run ended (cancelled
	// while waiting) have a record each above; any left is given back.
	mu.Lock()
	for _, h := range held {
		h.msg.Nak()
		r.release(1)
	}
	clear(held)
	mu.Unlock()
}

// A confirm is a result published, waiting for the server's
// acknowledgement, and its input.
type confirm struct {
	fut  jetstream.PubAckFuture // nil when err
	err  error                  // the publication failed at once
	data []byte
	msg  jetstream.Msg
	done func() // called once the input is acknowledged or given back
}

// confirm waits for each result's acknowledgement, in order; a result the
// server did not take is published again until it does (or the runner is
// cancelled, and the input is given back). Then the input is acknowledged
// and its slot freed.
func (r *runner) confirm(confirms <-chan confirm) {
	for c := range confirms {
		ok := c.err == nil
		if ok {
			select {
			case <-c.fut.Ok():
			case <-c.fut.Err():
				ok = false
			case <-r.ctx.Done(): // given back: the server may not have it
				ok = false
			}
		}
		if !ok {
			ok = publishRetrying(r.ctx, r.w.JS, resultSubject(r.spec.ID), c.data)
		}
		if ok {
			c.msg.Ack()
		} else {
			c.msg.Nak()
		}
		c.done()
		r.release(1)
	}
}

// resultData returns a record's result message.
func (r *runner) resultData(epoch int64, rec fetch.Record) []byte {
	o := run.FetchOutcome(rec)
	data, _ := json.Marshal(resultOf(epoch, o.Result, r.w.Name))
	if max := r.w.JS.Conn().MaxPayload(); int64(len(data)) > max {
		rec.Error = &fetch.Error{Kind: fetch.KindTooLarge, Message: fmt.Sprintf(
			"the record (%d bytes) is larger than the NATS server's max_payload (%d bytes): keep less of the body (--body hash or head) or raise max_payload", len(data), max)}
		rec.Body, rec.Bytes = nil, 0
		o = run.FetchOutcome(rec)
		data, _ = json.Marshal(resultOf(epoch, o.Result, r.w.Name))
	}
	return data
}
