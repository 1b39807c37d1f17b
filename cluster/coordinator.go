package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/run"
	"github.com/gogather/gather/template"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultMaxPending is a coordinator's default bound on the inputs
// published and not yet answered.
const DefaultMaxPending = 10_000

// A Coordinator is the stage (run.Stage) of a cluster job's coordinator:
// instead of fetching, it publishes each input's request to the job's
// work stream and yields the results the workers publish back. A
// run.Run with it and the job file is the coordinator: the run keeps
// the job (exactly once, resume), the sink, the progress and the summary,
// as for a local job.
//
// Call Start before the run, Run through the run, and Finish after it.
type Coordinator struct {
	// JS is the JetStream context of the connection to the server.
	JS jetstream.JetStream
	// Spec is the job's spec for its workers; its Epoch is set by Start.
	Spec Spec
	// Requests makes each input's request, as gather fetch does.
	Requests *template.Requests
	// Client makes the records of the inputs that are not sent: a bad
	// input is answered here, not by a worker.
	Client *fetch.Client
	// MaxPending bounds the inputs published and not yet answered:
	// publishing waits while that many are out (default
	// DefaultMaxPending). The coordinator's memory is bounded by it.
	MaxPending int
	// JSONOnly says the run's sink takes the records' JSON only (a JSON
	// lines writer, or no sink): each outcome's Value is then left nil,
	// rather than the record decoded from its JSON.
	JSONOnly bool
	// Note, when not nil, is told what a person watching the run should
	// know: that no worker has taken an input for a while.
	Note func(string)

	mu      sync.Mutex
	pending map[int]pendingInput // published, not answered
	ready   []run.Outcome        // answered, to be yielded
	done    bool                 // the last input was taken
	wake    chan struct{}        // something is ready, or done was set
	space   chan struct{}        // pending shrank
	workers map[string]*WorkerCount
	dups    int64
	bad     int64
	err     error // why the results could not be read

	leases    jetstream.KeyValue
	rev       uint64          // the lease's revision (keepJob's while it runs)
	leaseCtx  context.Context // ends the coordinator's lease
	endLease  context.CancelFunc
	leaseDone chan struct{}

	unconfirmed atomic.Int64  // inputs published, not yet acknowledged by the server
	lastResult  atomic.Int64  // when the last result came, Unix nanoseconds
	republished atomic.Int64  // inputs published again, lost by the server
	seen        atomic.Uint64 // the result stream's last sequence read
}

// pendingInput is a pending input's message, and what it ends with when
// it is cancelled.
type pendingInput struct {
	url, method string
	keep        map[string]any
	subject     string
	data        []byte
}

// WorkerCount is what one worker did for a coordinator's run.
type WorkerCount struct {
	Worker  string    `json:"worker"`
	Results int64     `json:"results"`
	First   time.Time `json:"-"`
	Last    time.Time `json:"-"`
	// PerSecond is its results per second, from its first to its last.
	PerSecond float64 `json:"per_second"`
}

// Start prepares the job on the server: its streams, consumers and lease
// bucket are created, anything a previous coordinator of the job left in
// its streams is purged (the job file says what is done; the run
// publishes every other input again), and the spec is published for the
// workers, with a new epoch.
func (c *Coordinator) Start(ctx context.Context) error {
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.MaxPending < 1 {
		return fmt.Errorf("the most inputs pending must be at least 1, got %d", c.MaxPending)
	}
	c.Spec.Epoch = time.Now().UnixNano()
	if err := c.Spec.check(); err != nil {
		return err
	}
	// The job's lease first: nothing of a job another coordinator runs
	// is changed.
	leases, err := leaseBucketOf(ctx, c.JS, &c.Spec)
	if err != nil {
		return err
	}
	rev, err := c.takeJob(ctx, leases)
	if err != nil {
		return err
	}
	c.leases, c.rev = leases, rev
	c.leaseCtx, c.endLease = context.WithCancel(context.WithoutCancel(ctx))
	c.leaseDone = make(chan struct{})
	go func() {
		defer close(c.leaseDone)
		c.keepJob()
	}()
	err = setUp(ctx, c.JS, &c.Spec)
	if err == nil {
		err = c.purge(ctx)
	}
	if err == nil {
		err = c.putSpec(ctx)
	}
	if err != nil {
		c.endLease()
		<-c.leaseDone
		c.endLease = nil
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		c.leases.Delete(dctx, coordinatorKey, jetstream.LastRevision(c.rev)) // the next run need not wait for it
	}
	return err
}

// purge empties the job's streams.
func (c *Coordinator) purge(ctx context.Context) error {
	for _, name := range []string{workStream(c.Spec.ID), resultStream(c.Spec.ID)} {
		s, err := c.JS.Stream(ctx, name)
		if err == nil {
			err = s.Purge(ctx)
		}
		var info *jetstream.StreamInfo
		if err == nil && name == resultStream(c.Spec.ID) {
			if info, err = s.Info(ctx); err == nil {
				c.seen.Store(info.State.LastSeq) // nothing after it is read yet
			}
		}
		if err != nil {
			return fmt.Errorf("purging %s: %w", name, err)
		}
	}
	return nil
}

// resultsUnread reports whether the result stream holds results the
// coordinator has not read yet.
func (c *Coordinator) resultsUnread(ctx context.Context) (bool, error) {
	s, err := c.JS.Stream(ctx, resultStream(c.Spec.ID))
	if err != nil {
		return false, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return false, err
	}
	return info.State.LastSeq > c.seen.Load(), nil
}

func (c *Coordinator) putSpec(ctx context.Context) error {
	kv, err := jobsBucket(ctx, c.JS)
	if err != nil {
		return err
	}
	b, err := encodeSpec(&c.Spec)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, c.Spec.ID, b); err != nil {
		return fmt.Errorf("publishing the job's spec: %w", err)
	}
	return nil
}

// Finish removes the job from the server: its spec (its workers let it
// go), streams and lease bucket. Whatever is left of the work (after a
// stop) is published again by the next run of the job.
// It does nothing unless Start succeeded, and removes nothing if the
// job's lease was taken by another coordinator meanwhile.
func (c *Coordinator) Finish(ctx context.Context) error {
	if c.endLease == nil {
		return nil
	}
	c.endLease()
	<-c.leaseDone
	c.endLease = nil
	if err := c.leases.Delete(ctx, coordinatorKey, jetstream.LastRevision(c.rev)); errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("the job's lease was taken by another coordinator: its streams are left to it")
	}
	return tearDown(ctx, c.JS, c.Spec.ID)
}

// coordinatorKey is the key of the lease bucket held by the job's
// coordinator, holding its epoch.
const coordinatorKey = "coordinator"

// ErrJobBusy is Start's error when another coordinator runs the job: the
// job file was copied, and the copy is being run.
var ErrJobBusy = errors.New("another coordinator runs this job on the server (a copy of the job file?); let it end first")

// takeJob takes the job's coordinator lease, waiting for the lease of a
// coordinator that was killed to expire (Spec.LeaseTTL at most).
func (c *Coordinator) takeJob(ctx context.Context, leases jetstream.KeyValue) (uint64, error) {
	deadline := time.Now().Add(c.Spec.LeaseTTL + time.Second)
	epoch := []byte(strconv.FormatInt(c.Spec.Epoch, 10))
	for {
		rev, err := leases.Create(ctx, coordinatorKey, epoch)
		switch {
		case err == nil:
			return rev, nil
		case !errors.Is(err, jetstream.ErrKeyExists):
			return 0, fmt.Errorf("taking the job's lease: %w", err)
		case time.Now().After(deadline):
			return 0, ErrJobBusy
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// keepJob renews the coordinator's lease every quarter of its TTL until
// Finish; an expired one (the server away) is taken again.
func (c *Coordinator) keepJob() {
	leases, rev := c.leases, c.rev
	defer func() { c.rev = rev }() // read by Finish once this has ended
	tick := time.NewTicker(c.Spec.LeaseTTL / 4)
	defer tick.Stop()
	epoch := []byte(strconv.FormatInt(c.Spec.Epoch, 10))
	for {
		select {
		case <-c.leaseCtx.Done():
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(c.leaseCtx, c.Spec.LeaseTTL/3)
		next, err := leases.Update(ctx, coordinatorKey, epoch, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			next, err = leases.Create(ctx, coordinatorKey, epoch) // expired; another's if this fails
		}
		cancel()
		if err == nil {
			rev = next
		}
	}
}

// Workers returns what each worker did in the run, by name.
func (c *Coordinator) Workers() []WorkerCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []WorkerCount
	for _, w := range c.workers {
		wc := *w
		if d := wc.Last.Sub(wc.First).Seconds(); d > 0 {
			wc.PerSecond = float64(wc.Results-1) / d
		}
		out = append(out, wc)
	}
	slices.SortFunc(out, func(a, b WorkerCount) int { return strings.Compare(a.Worker, b.Worker) })
	return out
}

// Err returns why the run's results could not be read, if they could not
// (the inputs pending then ended cancelled).
func (c *Coordinator) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Republished returns the inputs published again because the server lost
// them (see the package documentation).
func (c *Coordinator) Republished() int64 { return c.republished.Load() }

// Duplicates returns the results dropped because their input had been
// answered already (a redelivered input answered twice) or was not
// published by this run; Malformed the result messages that could not be
// read.
func (c *Coordinator) Duplicates() (duplicates, malformed int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dups, c.bad
}

// Run implements run.Stage: it publishes the requests of items, at most
// MaxPending unanswered at once, and yields each input's first result.
// When stop ends, nothing more is published and the workers are told to
// start nothing new; the inputs they hold are awaited, and the others end
// cancelled as soon as no worker holds an input. When ctx ends, every
// input not answered ends cancelled.
func (c *Coordinator) Run(ctx, stop context.Context, items iter.Seq[run.Item]) iter.Seq[run.Outcome] {
	return func(yield func(run.Outcome) bool) {
		c.pending = map[int]pendingInput{}
		c.wake, c.space = make(chan struct{}, 1), make(chan struct{}, 1)
		if c.workers == nil {
			c.workers = map[string]*WorkerCount{}
		}
		inner, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer func() {
			cancel()
			wg.Wait()
		}()
		collected := make(chan error, 1)
		wg.Go(func() { collected <- c.collect(inner) })
		wg.Go(func() { c.publish(inner, stop, items) })
		wg.Go(func() { c.watchStop(inner, stop) })
		wg.Go(func() { c.watchLost(inner, stop) })
		for {
			c.mu.Lock()
			batch := c.ready
			c.ready = nil
			end := c.done && len(c.pending) == 0 && len(batch) == 0
			c.mu.Unlock()
			if len(batch) > 0 {
				signal(c.space)
				for _, o := range batch {
					if !yield(o) {
						return
					}
				}
				continue
			}
			if end {
				return
			}
			select {
			case <-c.wake:
			case err := <-collected:
				if err != nil { // the results cannot be read: nothing pending can end
					c.mu.Lock()
					c.err = err
					c.mu.Unlock()
					cancel()
				}
				collected = nil
			case <-inner.Done():
				cancel()
				wg.Wait()
				c.cancelPending("the run was cancelled before a worker answered")
				c.mu.Lock()
				batch := c.ready
				c.ready = nil
				c.mu.Unlock()
				for _, o := range batch {
					if !yield(o) {
						return
					}
				}
				return
			}
		}
	}
}

// signal wakes the waiter of ch, if any, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// push adds an outcome to yield.
func (c *Coordinator) push(o run.Outcome) {
	c.mu.Lock()
	c.ready = append(c.ready, o)
	c.mu.Unlock()
	signal(c.wake)
}

// cancelPending ends every pending input cancelled, and marks the
// publishing done.
func (c *Coordinator) cancelPending(why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lines := make([]int, 0, len(c.pending))
	for line := range c.pending {
		lines = append(lines, line)
	}
	slices.Sort(lines)
	for _, line := range lines {
		p := c.pending[line]
		c.ready = append(c.ready, canceled(line, p, why))
		delete(c.pending, line)
	}
	c.done = true
}

func canceled(line int, p pendingInput, why string) run.Outcome {
	return run.FetchOutcome(fetch.Record{Line: line, URL: p.url, Method: p.method, Input: p.keep,
		Error: &fetch.Error{Kind: fetch.KindCanceled, Message: why}})
}

// publish publishes the requests of items, waiting while MaxPending are
// out. An input it took and could not publish ends cancelled.
func (c *Coordinator) publish(ctx, stop context.Context, items iter.Seq[run.Item]) {
	defer func() {
		c.mu.Lock()
		c.done = true
		c.mu.Unlock()
		signal(c.wake)
	}()
	// Inputs are published without waiting for the server's
	// acknowledgement; confirm waits for them, and publishes again the
	// ones the server did not take.
	confirms := make(chan published, 1024)
	var wg sync.WaitGroup
	wg.Go(func() { c.confirm(ctx, confirms) })
	defer wg.Wait()
	defer close(confirms)
	reqs, cut := run.Fetch{Requests: c.Requests}.MakeRequests(stop, items)
	for req := range reqs {
		p := pendingInput{url: req.URL, method: req.Method, keep: req.Keep}
		if !c.waitSpace(ctx, stop) { // a bad input too: outcomes ready count as pending
			c.push(canceled(req.Line, p, "the run stopped before the input was published"))
			return
		}
		if req.Err != nil { // nothing to send: answered here
			c.push(run.FetchOutcome(c.Client.Do(ctx, req)))
			continue
		}
		data, err := json.Marshal(workOf(c.Spec.Epoch, req))
		if err != nil { // a kept value JSON cannot hold (NaN)
			req.Keep, p.keep = nil, nil
			data, _ = json.Marshal(workOf(c.Spec.Epoch, req))
		}
		if max := c.JS.Conn().MaxPayload(); int64(len(data)) > max { // the server would refuse it
			req.Err = fmt.Errorf("the request (%d bytes with its body) is larger than the NATS server's max_payload (%d bytes)", len(data), max)
			c.push(run.FetchOutcome(c.Client.Do(ctx, req)))
			continue
		}
		subject := workSubject(c.Spec.ID, partition(req.URL, req.Line, c.Spec.Partitions, c.Spec.ByHost))
		p.subject, p.data = subject, data
		c.mu.Lock()
		c.pending[req.Line] = p
		c.mu.Unlock()
		c.unconfirmed.Add(1)
		fut, err := c.JS.PublishAsync(subject, data)
		select {
		case confirms <- published{fut, err, subject, data}:
		case <-ctx.Done():
			return // cancelled: the input is pending, and ends cancelled
		}
	}
	if o, ok := cut(); ok {
		c.push(o)
	}
}

// published is an input published, waiting for the server's
// acknowledgement.
type published struct {
	fut     jetstream.PubAckFuture // nil when err
	err     error                  // the publication failed at once
	subject string
	data    []byte
}

// confirm waits for each input's acknowledgement; an input the server did
// not take is published again until it does or ctx ends (it is pending,
// and then ends cancelled).
func (c *Coordinator) confirm(ctx context.Context, confirms <-chan published) {
	for p := range confirms {
		if p.err == nil {
			select {
			case <-p.fut.Ok():
				c.unconfirmed.Add(-1)
				continue
			case <-p.fut.Err():
			case <-ctx.Done():
			}
		}
		publishRetrying(ctx, c.JS, p.subject, p.data)
		c.unconfirmed.Add(-1)
	}
}

// waitSpace waits until fewer than MaxPending inputs are out; false when
// the run stopped first.
func (c *Coordinator) waitSpace(ctx, stop context.Context) bool {
	for {
		c.mu.Lock()
		n := len(c.pending) + len(c.ready)
		c.mu.Unlock()
		if n < c.MaxPending {
			return true
		}
		select {
		case <-c.space:
		case <-ctx.Done():
			return false
		case <-stop.Done():
			return false
		}
	}
}

// publishRetrying publishes data to subject and waits for the server's
// acknowledgement, trying again (a server restarting, a leader moving)
// until it succeeds or ctx ends. It gives up when no stream has taken the
// subject for noStreamFor: the job's streams are gone (its coordinator
// finished), and what was not published is redelivered or published
// again by whoever still needs it.
func publishRetrying(ctx context.Context, js jetstream.JetStream, subject string, data []byte) bool {
	wait := 50 * time.Millisecond
	var noStream time.Time
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := js.Publish(pctx, subject, data)
		cancel()
		if err == nil {
			return true
		}
		switch {
		case !errors.Is(err, jetstream.ErrNoStreamResponse):
			noStream = time.Time{}
		case noStream.IsZero():
			noStream = time.Now()
		case time.Since(noStream) > noStreamFor:
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// noStreamFor is how long publishRetrying tries a subject no stream takes.
const noStreamFor = 10 * time.Second

// collect reads the result stream and makes each pending input's first
// result an outcome; it purges what it has read, every second.
func (c *Coordinator) collect(ctx context.Context) error {
	cons, err := c.JS.OrderedConsumer(ctx, resultStream(c.Spec.ID), jetstream.OrderedConsumerConfig{})
	if err != nil {
		return fmt.Errorf("reading the results: %w", err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("reading the results: %w", err)
	}
	defer it.Stop()
	defer context.AfterFunc(ctx, it.Stop)() // ends a Next waiting
	stream, err := c.JS.Stream(ctx, resultStream(c.Spec.ID))
	if err != nil {
		return fmt.Errorf("reading the results: %w", err)
	}
	var seen uint64
	lastPurge := time.Now()
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				return nil
			}
			continue // a missed heartbeat: the ordered consumer recreates itself
		}
		if md, err := msg.Metadata(); err == nil {
			seen = md.Sequence.Stream
		}
		c.accept(msg.Data())
		c.seen.Store(seen) // after accept: a result read is a result taken
		if time.Since(lastPurge) > time.Second {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_ = stream.Purge(pctx, jetstream.WithPurgeSequence(seen+1)) // kept if it fails: purged next time
			cancel()
			lastPurge = time.Now()
		}
	}
}

// accept takes one result message.
func (c *Coordinator) accept(data []byte) {
	r, err := decodeResult(data)
	var value any
	if err == nil && !c.JSONOnly {
		var rec fetch.Record
		err = run.DecodeRecord(r.Record, &rec)
		value = rec
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.bad++
		return
	}
	if _, ok := c.pending[r.Line]; !ok || r.Epoch != c.Spec.Epoch {
		c.dups++ // answered already, or the work of another run
		return
	}
	delete(c.pending, r.Line)
	c.lastResult.Store(now.UnixNano())
	c.ready = append(c.ready, run.Outcome{Result: r.jobResult(), Value: value})
	w := c.workers[r.Worker]
	if w == nil {
		w = &WorkerCount{Worker: r.Worker, First: now}
		c.workers[r.Worker] = w
	}
	w.Results++
	w.Last = now
	signal(c.wake)
	signal(c.space)
}

// watchStop tells the workers to start nothing new once stop ends, and
// then ends the inputs still waiting in the stream, cancelled, as soon as
// no worker holds one.
func (c *Coordinator) watchStop(ctx, stop context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-stop.Done():
	}
	spec := c.Spec
	spec.Stopping = true
	b, _ := encodeSpec(&spec)
	for ctx.Err() == nil {
		kv, err := jobsBucket(ctx, c.JS)
		if err == nil {
			if _, err = kv.Put(ctx, spec.ID, b); err == nil {
				break
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	idle := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.mu.Lock()
		finished := c.done && len(c.pending) == 0
		c.mu.Unlock()
		if finished {
			return
		}
		held, _, err := c.workCounts(ctx)
		if err == nil && held == 0 {
			var unread bool
			if unread, err = c.resultsUnread(ctx); err == nil && unread {
				held = 1 // results on their way count as work held
			}
		}
		if err != nil || held > 0 {
			idle = 0
			continue
		}
		if idle++; idle >= 2 { // two looks in a row: no worker holds an input
			c.mu.Lock()
			if !c.done { // the publisher has not ended yet: look again
				c.mu.Unlock()
				continue
			}
			c.mu.Unlock()
			c.cancelPending("the run stopped before a worker started the input")
			signal(c.wake)
			return
		}
	}
}

// workCounts returns the inputs delivered to workers and not
// acknowledged, and the ones waiting in the stream, in all partitions.
func (c *Coordinator) workCounts(ctx context.Context) (held, waiting int, err error) {
	for p := range c.Spec.Partitions {
		cons, err := c.JS.Consumer(ctx, workStream(c.Spec.ID), partitionConsumer(p))
		if err != nil {
			return 0, 0, err
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return 0, 0, err
		}
		held += info.NumAckPending
		waiting += int(info.NumPending)
	}
	return held, waiting, nil
}

// lostAfter is how long a coordinator waits without a result, every
// input published acknowledged by the server and none in its streams or
// held by a worker, before it takes the inputs pending for lost (a server
// killed before it wrote them) and publishes them again.
const lostAfter = 3 * time.Second

// noWorkerNote is how long inputs wait with no worker holding one before
// the coordinator says so.
const noWorkerNote = 10 * time.Second

// watchLost publishes again the inputs the server lost: pending, with no
// trace of them anywhere, for lostAfter.
func (c *Coordinator) watchLost(ctx, stop context.Context) {
	tick := time.NewTicker(lostAfter / 3)
	defer tick.Stop()
	var since time.Time // since when nothing was seen anywhere
	var idle time.Time  // since when inputs wait and no worker holds one
	noted := false      // the idle note was given
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop.Done():
			return // what is pending is cancelled, not published again
		case <-tick.C:
		}
		c.mu.Lock()
		n := len(c.pending)
		c.mu.Unlock()
		if n == 0 || c.unconfirmed.Load() > 0 || time.Since(time.Unix(0, c.lastResult.Load())) < lostAfter {
			since, idle, noted = time.Time{}, time.Time{}, false
			continue
		}
		held, waiting, err := c.workCounts(ctx)
		switch {
		case err != nil || held > 0:
			idle, noted = time.Time{}, false
		case waiting > 0 && idle.IsZero():
			idle = time.Now()
		case waiting > 0 && !noted && time.Since(idle) > noWorkerNote && c.Note != nil:
			c.Note(fmt.Sprintf("no worker has taken an input for %v: %d inputs wait; start gather worker --cluster with this server", noWorkerNote, waiting))
			noted = true
		}
		if err == nil && held == 0 && waiting == 0 {
			var unread bool
			if unread, err = c.resultsUnread(ctx); err == nil && unread {
				held = 1 // results on their way count as work held
			}
		}
		if err != nil || held > 0 || waiting > 0 {
			since = time.Time{}
			continue
		}
		if since.IsZero() {
			since = time.Now()
			continue
		}
		if time.Since(since) < lostAfter {
			continue
		}
		since = time.Time{}
		c.mu.Lock()
		lost := make([]pendingInput, 0, len(c.pending))
		for _, p := range c.pending {
			lost = append(lost, p)
		}
		c.mu.Unlock()
		for _, p := range lost {
			if !publishRetrying(ctx, c.JS, p.subject, p.data) {
				return
			}
		}
		c.republished.Add(int64(len(lost)))
	}
}
