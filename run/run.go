package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogather/gather/input"
	"github.com/gogather/gather/job"
)

// Config is what a run is made of. Input, Format and Stage are required.
type Config struct {
	// Input is the input's bytes, read once, as a stream, in Format.
	Input io.Reader
	// Format is the input's format.
	Format Format

	// Stage is the work done on each item.
	Stage Stage
	// Sink receives every outcome (nil: none, as for a job run whose
	// records go to the job file only).
	Sink Sink

	// Job, when not nil, keeps the run: the inputs it has stored are
	// skipped, every result (but a cancelled one) is stored, and Run
	// closes it. JobName names it in messages.
	Job     *job.Job
	JobName string
	// Retry, with Job, runs the job's failed results matching it again;
	// Check is then a second reader of the input from its start (see
	// job.InputOptions).
	Retry *job.Filter
	Check io.Reader

	// Grace is how long the work in flight may go on after Stop before it
	// is cancelled; 0 cancels it at once.
	Grace time.Duration
	// OnStop, when not nil, is called once, from any goroutine, when the
	// run stops starting new work, whatever the reason (Stop, Cancel, a
	// closed output, a failed job, the caller's context): a caller whose
	// Input can block (an idle pipe) unblocks it there.
	OnStop func()

	// Log receives the summary and the run's notes for a person to read;
	// nil for none.
	Log io.Writer
	// Progress, when not nil, is called with the counts so far every
	// FlushEvery, from a goroutine of Run's, never two calls at once and
	// never after Run returned.
	Progress func(Progress)
}

// Progress is the state of a run at an update.
type Progress struct {
	Done   int64 // outcomes this run wrote (or stored)
	Failed int64 // of which failed
}

// FlushEvery is the pace of the sink's flushes and of the Progress
// callback: an outcome written sits in the sink's buffer at most about
// FlushEvery (a reader of a pipe sees records promptly, also while every
// piece of work in flight is slow), and the sink is flushed at the end of
// the run.
const FlushEvery = 100 * time.Millisecond

// Result is how a run ended.
type Result struct {
	Summary
	// Started says the work began: the input was accepted (by the job,
	// with one) and reading it started. A run refused before (an input
	// that is not the job's, a stop while the job checked the input) has
	// done nothing, and its outputs should be left as they are.
	Started bool
	// Stopped says Stop or Cancel was called.
	Stopped bool
	// OutputClosed is the sink's error when its reader went away (a
	// broken pipe): the run stopped as by Stop, its job kept storing.
	OutputClosed error
	// Job is where the job stands at the end (with a Job only).
	Job *job.Progress
}

// AnyFailed reports whether any input failed: this run's, or with a job any
// of the job's.
func (r Result) AnyFailed() bool {
	return r.Summary.Failed > 0 || r.Job != nil && r.Job.Failed > 0
}

// An InputError is Run's error when the job refused the input or could
// not check it against the job (job.Input), before any work started: an
// input that is not the job's (job.ErrOtherInput), a read error, a retry
// filter that selects no failure.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// ErrInterruptedEarly is Run's error when it was stopped while the job
// checked the input, before any work started.
var ErrInterruptedEarly = errors.New("interrupted while checking the input against the job; nothing was run")

// A Run is one run of a pipeline: positioned input records, a stage, a
// sink and an optional job, stopped in two phases. Make it with New, stop
// it from any goroutine with Stop and Cancel, and call Run once.
type Run struct {
	cfg      Config
	src      source
	stopOnce sync.Once
	asked    chan struct{} // Stop was called
	abort    chan struct{} // Cancel was called
	abortOne sync.Once
	ran      atomic.Bool

	mu      sync.Mutex         // guards the fields below, set by Run
	stopCtx context.Context    // ends when the run stops starting work
	runCtx  context.Context    // ends when the work in flight is cancelled
	stopNew context.CancelFunc // ends the stop context
	cancel  context.CancelFunc // ends the run's context
}

// New returns a run of cfg.
func New(cfg Config) *Run {
	return &Run{cfg: cfg, src: source{format: cfg.Format}, asked: make(chan struct{}), abort: make(chan struct{})}
}

// Stop is the first phase of a stop: once it returns, no new item is read
// or started; the work in flight has the Grace period to finish, and is
// then cancelled.
// Every outcome that finishes is written and stored. Stop may be called
// from any goroutine, before or during Run, more than once.
func (r *Run) Stop() {
	r.stopOnce.Do(func() { close(r.asked) })
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopNew != nil { // running: stop starting now, not when the stopper sees it
		r.stopNew()
		if r.cfg.Grace <= 0 {
			r.cancel()
		}
	}
}

// Cancel is the second phase: the work in flight is cancelled now (its
// items end as job.Canceled outcomes: written, not stored, run again on
// resume). It implies Stop.
func (r *Run) Cancel() {
	r.Stop()
	r.abortOne.Do(func() { close(r.abort) })
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		r.cancel()
	}
}

// Run runs the pipeline to the end of the input, or until it is stopped,
// and returns how it ended. It writes the summary to Log. It returns an
// error only when the run could not go on (the sink or the job failed;
// the input is not the job's, job.ErrOtherInput): every outcome finished
// before is written and stored all the same. Run closes the job.
//
// Guarantees: every item yields exactly one outcome; each outcome is
// written to the sink and stored in the job before Run returns, a
// cancelled one excepted from the job; Run returns only once every
// goroutine it started has ended.
//
// The end of ctx is a Cancel: the work in flight ends as cancelled
// outcomes (never stored), whatever ctx's cause, so that a deadline of the
// caller's does not store results of work it cut short as failures.
//
// Run may be called once; a second call panics.
func (r *Run) Run(ctx context.Context) (res Result, err error) {
	if !r.ran.CompareAndSwap(false, true) {
		panic("run: Run called twice")
	}
	parent := ctx
	// The stage sees a cancel, never the caller's deadline or cause.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop, stopNew := context.WithCancel(ctx)
	defer stopNew()
	r.mu.Lock()
	r.stopNew, r.cancel, r.stopCtx, r.runCtx = stopNew, cancel, stop, ctx
	r.mu.Unlock()
	if parent.Err() != nil { // the caller's context ended already: a Cancel
		r.Cancel()
	}
	if r.isStopped() { // Stop before Run: nothing is read
		stopNew()
		if grace := r.cfg.Grace; grace <= 0 || r.isCancelled() {
			cancel()
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	var quitOnce sync.Once
	quit := make(chan struct{})
	defer quitOnce.Do(func() { close(quit) })
	internalStop := make(chan struct{}, 1) // a closed output: Stop, but not the caller's
	j := r.cfg.Job
	if j != nil {
		defer j.Close() // after a failure; the normal end closes it below
	}
	grace := r.cfg.Grace
	wg.Go(func() { // the stopper: Stop, Cancel and the grace period
		var timer <-chan time.Time
		asked := r.asked
		startGrace := func() {
			stopNew()
			if timer == nil && grace > 0 {
				timer = time.After(grace)
			}
		}
		for {
			select {
			case <-asked:
				startGrace()
				if grace <= 0 {
					cancel()
					return
				}
				asked = nil // seen
				continue
			case <-internalStop:
				startGrace()
				if grace <= 0 {
					cancel()
					return
				}
				continue
			case <-timer:
			case <-r.abort:
			case <-parent.Done(): // the caller's context: a Cancel
				r.Cancel()
			case <-ctx.Done(): // an abort: cancelled already
			case <-quit:
				stopNew()
				return
			}
			stopNew()
			cancel()
			return
		}
	})
	if r.cfg.OnStop != nil {
		wg.Go(func() {
			select {
			case <-stop.Done():
			case <-quit:
				return
			}
			r.cfg.OnStop()
		})
	}
	abort := func() { stopNew(); cancel() }
	read := &errWatch{r: r.cfg.Input}

	var items iter.Seq[Item]
	if j != nil {
		opts := job.InputOptions{Retry: r.cfg.Retry}
		if r.cfg.Retry != nil {
			opts.Check = r.cfg.Check
		}
		jin, err := j.Input(stop, read, opts)
		if err != nil {
			if r.isStopped() {
				return Result{Stopped: true}, ErrInterruptedEarly
			}
			return Result{}, &InputError{Err: err}
		}
		header, rest := []string(nil), io.Reader(jin.Reader())
		if r.cfg.Format == CSV && jin.Start.Offset > 0 {
			header, err = input.CSVHeader(bytes.NewReader(jin.Prefix))
			switch {
			case errors.Is(err, input.ErrNoHeader):
			case err != nil:
				rest = strings.NewReader("") // a bad header ended the input
			}
		}
		all := r.src.items(stop, rest, jin.Start, header, jin.Take, jin.Pass)
		items = func(yield func(Item) bool) {
			for it := range all {
				if !yield(it) {
					return
				}
			}
			// The parser reached its end (or a bad CSV header, which ends
			// the input), not cut short by a stop or a read error.
			if stop.Err() == nil && read.err == nil {
				jin.Ended()
			}
		}
		j.Start(ctx, func(error) { abort() }) // the error is Close's
	} else {
		items = r.src.items(stop, read, input.Pos{}, nil, nil, nil)
	}
	// Items are not taken once stopping: the stage may read ahead.
	guarded := func(yield func(Item) bool) {
		for it := range items {
			if stop.Err() != nil || !yield(it) {
				return
			}
		}
	}

	sink := r.cfg.Sink
	if sink == nil {
		sink = discard{}
	}
	st := newStats()
	// mu guards the sink, the statistics and closed: the loop writes each
	// outcome, and the ticker flushes the sink and reports progress every
	// FlushEvery, also while every piece of work in flight is slow.
	var mu sync.Mutex
	var closed error   // set once the output was found closed
	var flushErr error // a flush by the ticker failed: the run ends
	dirty := false     // written since the last flush
	fail := func(err error) (Result, error) {
		abort()
		return Result{Started: true}, err
	}
	// written handles a sink's error: nil, a closed output (the run
	// stops, the job keeps storing), or the end of the run. mu is held.
	written := func(err error) error {
		switch {
		case err == nil || closed != nil:
			return nil
		case IsClosedOutput(err):
			closed = err
			select {
			case internalStop <- struct{}{}:
			default:
			}
			return nil
		}
		return fmt.Errorf("writing records: %w", err)
	}
	tickerDone := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		t := time.NewTicker(FlushEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-tickerDone:
				return
			}
			mu.Lock()
			if dirty && closed == nil && flushErr == nil {
				dirty = false
				if err := written(sink.Flush()); err != nil {
					flushErr = err
					abort()
				}
			}
			if r.cfg.Progress != nil {
				r.cfg.Progress(Progress{Done: st.Records, Failed: st.Failed})
			}
			mu.Unlock()
		}
	})
	stopTicker := sync.OnceFunc(func() { close(tickerDone); ticker.Wait() })
	defer stopTicker()
	for o := range r.cfg.Stage.Run(ctx, stop, guarded) {
		if j != nil {
			if err := j.Store(o.Result); err != nil {
				return fail(err)
			}
		}
		mu.Lock()
		st.Add(o)
		err := flushErr
		if err == nil && closed == nil {
			err = written(sink.Write(o))
			dirty = true
		}
		mu.Unlock()
		if err != nil {
			return fail(err)
		}
	}
	stopTicker()
	if flushErr != nil {
		return fail(flushErr)
	}
	if closed == nil {
		if err := written(sink.Flush()); err != nil {
			return fail(err)
		}
	}
	st.AddSkipped(r.src.skippedLines())
	if err := r.src.endedEarly(); err != nil {
		st.NoteInput("the input ended early: " + err.Error())
	}
	res = Result{Summary: st.Summary(), Started: true, Stopped: r.isStopped(), OutputClosed: closed}
	if j != nil {
		if err := j.Close(); err != nil {
			return res, err
		}
		p, err := j.Progress(context.WithoutCancel(ctx))
		if err != nil {
			return res, err
		}
		res.Job = &p
	}
	if w := r.cfg.Log; w != nil {
		if res.Stopped && j == nil {
			fmt.Fprintln(w, "gather: interrupted; the records written are complete")
		}
		// A job run that did nothing (the job was done) has no figures of
		// its own: the job's line says where the job stands.
		if j == nil || res.Records > 0 {
			res.WriteText(w)
		}
		if j != nil {
			r.writeJobSummary(w, res)
		}
	}
	return res, nil
}

// Stopping reports whether the run has stopped starting work, for any
// reason (Stop, Cancel, a closed output, a failed job, the caller's
// context, the end of the run). A caller turning signals into a stop
// takes a signal that comes once the run is stopping as a second one.
func (r *Run) Stopping() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.isStopped() || r.stopCtx != nil && r.stopCtx.Err() != nil
}

// Cancelled reports whether the work in flight has been cancelled (by
// Cancel, the end of the grace period, a failure or the caller's
// context), or the run has ended.
func (r *Run) Cancelled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.isCancelled() || r.runCtx != nil && r.runCtx.Err() != nil
}

// isCancelled reports whether Cancel was called.
func (r *Run) isCancelled() bool {
	select {
	case <-r.abort:
		return true
	default:
		return false
	}
}

// isStopped reports whether Stop (or Cancel) was called.
func (r *Run) isStopped() bool {
	select {
	case <-r.abort:
		return true
	default:
	}
	select {
	case <-r.asked:
		return true
	default:
		return false
	}
}

// writeJobSummary says where the job stands. A run that found every input
// stored already says so, with the job's totals, rather than a summary of
// nothing.
func (r *Run) writeJobSummary(w io.Writer, res Result) {
	p, name := res.Job, r.cfg.JobName
	if p.Total == 0 && !res.Stopped {
		fmt.Fprintf(w, "job %s: the input holds no record to run (it is empty, or only blank lines and comments)\n", name)
		return
	}
	if p.New == 0 && p.Total >= 0 && p.Stored >= p.Total && !res.Stopped && res.OutputClosed == nil {
		fmt.Fprintf(w, "job %s: all %d inputs are already stored: %d ok, %d failed; nothing was run (gather report %s shows the job's figures", name, p.Total, p.Stored-p.Failed, p.Failed, name)
		switch {
		case p.Failed > 0 && r.cfg.Retry != nil:
			fmt.Fprintf(w, "; no failure matches this --retry-failed")
		case p.Failed > 0:
			fmt.Fprintf(w, "; --retry-failed runs the failures again")
		}
		fmt.Fprintln(w, ")")
		return
	}
	if p.Total >= 0 {
		fmt.Fprintf(w, "job %s: %d of %d inputs have a result (%d ok, %d failed)", name, p.Stored, p.Total, p.Stored-p.Failed, p.Failed)
	} else {
		fmt.Fprintf(w, "job %s: %d inputs have a result (%d ok, %d failed); the number of inputs is known once the input is read to its end", name, p.Stored, p.Stored-p.Failed, p.Failed)
	}
	fmt.Fprintf(w, "; this run stored %d", p.New)
	if p.Skipped > 0 {
		fmt.Fprintf(w, " and skipped %d stored before", p.Skipped)
	}
	fmt.Fprintln(w)
	if res.Stopped || res.OutputClosed != nil || (p.Total < 0 || p.Stored < p.Total) {
		fmt.Fprintf(w, "gather: stopped; every finished result is stored: run the same command again to resume\n")
	}
}

// discard is the sink of a job run without an output: the records go to
// the job file only.
type discard struct{}

func (discard) Write(Outcome) error { return nil }
func (discard) Flush() error        { return nil }
