package flow

import (
	"context"
	"iter"
	"strconv"
	"strings"

	"github.com/gogather/gather"
	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
	"github.com/gogather/gather/run"
	"github.com/itchyny/gojq"
)

// AppendJSON appends the run's line to dst: {"line": line (left out when
// 0), "output": ..., "steps": {NAME: {status, ms, error, reason}, ...},
// "error": {step, kind, message, status} (only when the run failed)}. The
// steps are in the flow's Order; values are encoded as jq encodes them
// (object keys sorted, no HTML escaping). Its error is an output value
// JSON cannot hold (NaN), written as null.
func (r *Result) AppendJSON(dst []byte, line int) ([]byte, error) {
	dst = append(dst, '{')
	if line > 0 {
		dst = append(dst, `"line":`...)
		dst = strconv.AppendInt(dst, int64(line), 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"output":`...)
	var err error
	if !r.defaultOutput {
		out, merr := gojq.Marshal(r.Output)
		if merr != nil {
			out, err = []byte("null"), merr
		}
		dst = append(dst, out...)
	} else {
		dst = r.appendSteps(dst)
	}
	dst = append(dst, `,"steps":`...)
	dst = r.appendSteps(dst)
	if r.Err != nil {
		dst = append(dst, `,"error":`...)
		m := map[string]any{"step": r.Err.Step, "kind": r.Err.Kind, "message": r.Err.Message}
		if r.Err.Status != 0 {
			m["status"] = r.Err.Status
		}
		b, _ := gojq.Marshal(m)
		dst = append(dst, b...)
	}
	return append(dst, '}'), err
}

// appendSteps appends the steps' summaries as a JSON object, in the
// flow's Order.
func (r *Result) appendSteps(dst []byte) []byte {
	dst = append(dst, '{')
	for i := range r.Steps {
		s := &r.Steps[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, s.Name) // step names are ASCII letters, digits and _
		dst = s.appendSummary(append(dst, ':'))
	}
	return append(dst, '}')
}

// appendSummary appends the step's summary as JSON: what summary gives,
// written directly (keys sorted, as jq writes them), for it is written
// for every step of every record.
func (r *StepResult) appendSummary(dst []byte) []byte {
	dst = append(dst, '{')
	if r.Error != nil {
		dst = append(dst, `"error":{"kind":`...)
		dst = appendString(dst, r.Error.Kind)
		dst = append(dst, `,"message":`...)
		dst = appendString(dst, r.Error.Message)
		dst = append(dst, "},"...)
	}
	dst = append(dst, `"ms":`...)
	dst = strconv.AppendFloat(dst, round(r.MS), 'f', -1, 64)
	if r.Reason != "" {
		dst = append(dst, `,"reason":`...)
		dst = appendString(dst, r.Reason)
	}
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, string(r.Status))
	return append(dst, '}')
}

// appendString appends s as a JSON string, as jq encodes it.
func appendString(dst []byte, s string) []byte {
	b, _ := gojq.Marshal(s)
	return append(dst, b...)
}

// Stage runs an engine once per input record: it is the run.Stage of
// gather run --input. Each record's .input is its fields (a CSV row's or
// a JSONL object's), or a plain line's text, trimmed.
type Stage struct {
	Engine *Engine
	// Concurrency is how many records run at once (at least 1). Their
	// steps share the engine's Client and its limits.
	Concurrency int
	// Ordered yields the outcomes in input order, through a window of 4 x
	// Concurrency records (gather.Ordered): a slow record holds the ones
	// after it back once the window is full.
	Ordered bool
}

// Run implements run.Stage. A record that ends failed is an outcome of
// the failing step's error kind; a record whose run was cancelled (the
// run's context ended, or stop ended before it started) is of kind
// job.Canceled, and runs again on resume. A record in flight when stop
// ends runs to its end (every step of it), unless ctx ends first.
func (s Stage) Run(ctx, stop context.Context, items iter.Seq[run.Item]) iter.Seq[run.Outcome] {
	return func(yield func(run.Outcome) bool) {
		limit := max(s.Concurrency, 1)
		var opts []gather.MapOption
		if s.Ordered {
			opts = append(opts, gather.Ordered(4*limit))
		}
		for r := range gather.Map(ctx, items, limit, func(ctx context.Context, it run.Item) (run.Outcome, error) {
			return s.record(ctx, stop, it), nil
		}, opts...) {
			o := r.Value
			if r.Err != nil { // not started: ctx ended
				o = canceledOutcome(r.Input.Line, "the run was cancelled before the record started")
			}
			if !yield(o) {
				return
			}
		}
	}
}

// record runs the flow for one item.
func (s Stage) record(ctx, stop context.Context, it run.Item) run.Outcome {
	if it.Err != nil {
		res := &Result{Err: &Failure{Step: "input", Kind: string(fetch.KindBadInput), Message: it.Err.Error()}}
		return outcome(it.Line, res)
	}
	if stop.Err() != nil {
		return canceledOutcome(it.Line, "the run stopped before the record started")
	}
	var input any = it.Fields
	if it.Fields == nil {
		input = strings.TrimSpace(it.Text)
	}
	return outcome(it.Line, s.Engine.Run(ctx, input))
}

func canceledOutcome(line int, msg string) run.Outcome {
	return outcome(line, &Result{Canceled: true, Err: &Failure{Step: "input", Kind: KindCanceled, Message: msg}})
}

// outcome is the envelope of a record's result: ok, the failure's kind
// and HTTP status, the time, and the line as JSON (AppendJSON).
func outcome(line int, res *Result) run.Outcome {
	b, _ := res.AppendJSON(make([]byte, 0, 256), line)
	o := run.Outcome{Value: res, Result: job.Result{Line: line, OK: res.Err == nil, Status: res.HTTPStatus, MS: res.MS, Bytes: res.Bytes, Record: b}}
	if len(res.Steps) > 0 {
		o.Attempts = 1 + res.Retries // it ran: its time counts in the summary's latency
	}
	if res.Err != nil {
		o.Kind = res.Err.Kind
		if res.Canceled {
			o.Kind = job.Canceled
		}
	}
	return o
}

// Lines returns a sink writing each record's line (AppendJSON) to w, one
// per line.
func Lines(w output.JSONWriter) run.Sink { return lineSink{w} }

type lineSink struct{ w output.JSONWriter }

func (s lineSink) Write(o run.Outcome) error { return s.w.WriteJSON(o.Line, o.Record) }
func (s lineSink) Flush() error              { return s.w.Flush() }
