package run

import (
	"bytes"
	"context"
	"iter"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
	"github.com/gogather/gather/template"
)

// An Item is one input record with its position, as the source read it.
type Item struct {
	// Line is the record's 1-based line number in the input (the line it
	// starts on).
	Line int
	// End is the position just after the record.
	End input.Pos
	// Text is a plain line's text, as read (Lines only).
	Text string
	// Fields are a CSV row's or a JSONL object's fields (nil for Lines).
	Fields map[string]any
	// Err says why the record could not be read: the stage makes it a
	// bad input outcome.
	Err error
}

// FieldsOrURL returns the item's fields, and for a plain line the record
// {"url": its text, trimmed}.
func (it Item) FieldsOrURL() map[string]any {
	if it.Fields == nil && it.Err == nil {
		return map[string]any{"url": trimSpace(it.Text)}
	}
	return it.Fields
}

// An Outcome is what a stage made of one item: the envelope a job stores
// and the summary counts (line, ok, kind, host, status, attempts, ms,
// bytes, the record's JSON), and the stage's own record for sinks that
// need its fields.
type Outcome struct {
	job.Result
	// Value is the stage's record: a fetch.Record for Fetch.
	Value any
}

// A Stage turns items into outcomes, streaming: it is the work of a run
// (the fetch engine; the flow engine, a cluster worker and a gateway are
// others). Run must yield exactly one Outcome per item it takes from
// items, in any order, and read items only as fast as it has room for
// them, so that memory is bounded by its concurrency. When stop ends, it
// takes no new item and starts no new work: what has not started ends
// with an outcome of kind job.Canceled. When ctx ends, the work in flight
// is cancelled and ends the same way. stop ends no later than ctx.
// Breaking out of the returned sequence cancels what is in flight and
// waits for it.
type Stage interface {
	Run(ctx, stop context.Context, items iter.Seq[Item]) iter.Seq[Outcome]
}

// Fetch is the stage of gather fetch: each item becomes a request by
// Requests, run by Client with its limits, retries and body policy.
type Fetch struct {
	Client   *fetch.Client
	Requests *template.Requests
}

// Run implements Stage.
func (f Fetch) Run(ctx, stop context.Context, items iter.Seq[Item]) iter.Seq[Outcome] {
	return func(yield func(Outcome) bool) {
		reqs, cut := f.MakeRequests(stop, items)
		scratch := make([]byte, 0, 1024)
		for rec := range f.Client.Run(ctx, reqs, fetch.StopStarting(stop.Done())) {
			var o Outcome
			o, scratch = fetchOutcome(rec, scratch)
			if !yield(o) {
				return
			}
		}
		if o, ok := cut(); ok {
			yield(o)
		}
	}
}

// MakeRequests returns items made into requests by f.Requests, as Run
// makes them, for a stage that runs them elsewhere (a cluster's
// coordinator); f.Client is not used. An item that cannot be read is a
// request with Err. When stop ends while an item's templates are filled,
// they are stopped and the sequence ends there: cut then returns that
// item's outcome, cancelled, and ok; else it returns false. Call cut once
// the sequence has ended.
func (f Fetch) MakeRequests(stop context.Context, items iter.Seq[Item]) (reqs iter.Seq[fetch.Request], cut func() (o Outcome, ok bool)) {
	var stopped *fetch.Request
	plain := f.Requests.Plain()
	reqs = func(yield func(fetch.Request) bool) {
		for it := range items {
			var req fetch.Request
			switch {
			case it.Err != nil:
				req = f.Requests.Invalid(it.Line, it.Err)
			case plain && it.Fields == nil:
				req = f.Requests.PlainRequest(it.Line, it.Text)
			default:
				var ok bool
				if req, ok = f.Requests.Request(stop, it.Line, it.FieldsOrURL()); !ok {
					r := f.Requests.Invalid(it.Line, nil)
					stopped = &r
					return // stopping: a template was cut short
				}
			}
			if !yield(req) {
				return
			}
		}
	}
	cut = func() (Outcome, bool) {
		if stopped == nil {
			return Outcome{}, false
		}
		// Its template was stopped: it ends cancelled, as one not started.
		return FetchOutcome(fetch.Record{Line: stopped.Line, URL: stopped.URL, Method: stopped.Method, Input: stopped.Keep,
			Error: &fetch.Error{Kind: fetch.KindCanceled, Message: "the run stopped while the input's templates were filled"}}), true
	}
	return reqs, cut
}

// FetchOutcome returns the outcome of a fetch record: its envelope, with
// the record encoded as JSON (Record.AppendJSON), and the record itself
// as Value.
func FetchOutcome(rec fetch.Record) Outcome {
	o, _ := fetchOutcome(rec, nil)
	return o
}

// fetchOutcome is FetchOutcome encoding the record through scratch (when
// not nil), which it returns for the next record: the outcome's JSON is a copy of its
// exact size (the outcome is kept by the job and the sink, so it cannot
// share a buffer), where a buffer of a guessed size would be mostly slack;
// a record too large for scratch keeps the buffer it was encoded into.
func fetchOutcome(rec fetch.Record, scratch []byte) (Outcome, []byte) {
	buf := scratch[:0]
	if scratch == nil {
		buf = make([]byte, 0, 512)
	}
	text, err := rec.AppendJSON(buf)
	if err != nil {
		// A record is plain data: only a kept input value that JSON
		// cannot hold (NaN) fails, and is then kept as null.
		rec.Input = nil
		text, _ = rec.AppendJSON(text[:0])
	}
	if scratch != nil && cap(text) <= maxScratch {
		scratch, text = text, bytes.Clone(text)
	} // else text is a buffer of its own, kept as it is
	o := Outcome{Value: rec, Result: job.Result{
		Line: rec.Line, OK: rec.Error == nil, Host: rec.Host(), Status: rec.Status,
		Attempts: rec.Attempts, MS: rec.MS, Bytes: rec.Bytes, Record: text,
	}}
	if rec.Error != nil {
		o.Kind = string(rec.Error.Kind)
	}
	return o, scratch
}

// maxScratch bounds the buffer fetchOutcome keeps between records: a
// record holding a large body is encoded into a buffer of its own.
const maxScratch = 64 << 10

// A Sink receives every outcome of a run, in the order they complete;
// the run never makes two calls at once. A record reaches it whole or not
// at all as far as its writer allows (see output.Writer).
type Sink interface {
	Write(Outcome) error
	// Flush pushes what is buffered; the run calls it about FlushEvery
	// after a Write, and at its end.
	Flush() error
}

// Records returns a sink writing fetch records to w: the record's JSON as
// the stage encoded it when w is an output.JSONWriter, else the record.
func Records(w output.Writer) Sink {
	j, _ := w.(output.JSONWriter)
	return recordSink{w, j}
}

type recordSink struct {
	w output.Writer
	j output.JSONWriter
}

func (s recordSink) Write(o Outcome) error {
	if s.j != nil && o.Record != nil {
		return s.j.WriteJSON(o.Line, o.Record)
	}
	rec, _ := o.Value.(fetch.Record)
	return s.w.Write(rec)
}

func (s recordSink) Flush() error { return s.w.Flush() }
