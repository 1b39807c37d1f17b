package flow

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/template"
)

// Config is how an Engine runs the steps of its flow.
type Config struct {
	// Client runs the http steps: its limits (in flight in all and per
	// host, rates), transient retries with back-off and Retry-After,
	// timeouts and body bound hold for every step of every run on the
	// engine. Required when the flow has an http step.
	Client *fetch.Client
	// Dir is the working directory of exec steps, and what a relative
	// "dir:" of a step is relative to; "" is the process's.
	Dir string
	// MaxOutput bounds what an exec step keeps of its standard output,
	// in bytes: a process that writes more is stopped and the step fails
	// (kind too_large). 0 is DefaultMaxOutput.
	MaxOutput int
	// Grace is how long a stopped process has between SIGTERM and
	// SIGKILL; 0 is proc.DefaultGrace.
	Grace time.Duration
	// Limits bound each evaluation of an expression (template.Limits);
	// the zero value is the template package's defaults.
	Limits template.Limits
	// MaxItems bounds the items of a for_each: a longer list fails the
	// step (too_large) before any item runs. 0 is DefaultMaxItems.
	MaxItems int
	// Readers are more strings, outside the flow, whose expressions see
	// the steps' results (a gateway's response): the result fields they
	// read are built (see Costs in the package documentation).
	Readers []string
	// OnHTTP, when not nil, is called with the record of every request an
	// http step made (its host, status, error kind, time), from the
	// step's goroutine: a gateway counts its upstream calls with it.
	OnHTTP func(fetch.Record)
}

// DefaultMaxOutput is what an exec step keeps of its standard output by
// default: 10 MiB, the body bound of an http step.
const DefaultMaxOutput = 10 << 20

// DefaultMaxItems is the most items a for_each takes by default.
const DefaultMaxItems = 100_000

// DefaultConcurrency is how many items of a for_each step run at once
// when the step does not say.
const DefaultConcurrency = 8

// An Engine runs a flow, once (Run) or once per input record (Stage).
// It is safe for concurrent use: runs share only the Config (its Client's
// limits are what they share on purpose).
type Engine struct {
	flow   *Flow
	cfg    Config
	plans  []*plan // in the flow's Order
	output *value  // nil: the default output
	cache  *responseCache
}

// NewEngine returns an engine for f, a flow returned by Parse. Its error
// is a Config that cannot run f (an http step without a Client), or a
// flow not made by Parse whose Order is not a topological order of its
// steps.
func NewEngine(f *Flow, cfg Config) (*Engine, error) {
	if cfg.MaxOutput <= 0 {
		cfg.MaxOutput = DefaultMaxOutput
	}
	if cfg.MaxItems <= 0 {
		cfg.MaxItems = DefaultMaxItems
	}
	e := &Engine{flow: f, cfg: cfg}
	index := make(map[string]int, len(f.Order))
	for i, name := range f.Order {
		if _, ok := f.Steps[name]; !ok || index[name] != 0 || i > 0 && name == f.Order[0] {
			return nil, errors.New("flow: the flow's Order does not list each of its steps once: make flows with Parse")
		}
		index[name] = i
	}
	if len(f.Order) != len(f.Steps) || len(f.Order) == 0 {
		return nil, errors.New("flow: the flow's Order does not list each of its steps once: make flows with Parse")
	}
	for i, name := range f.Order {
		for _, need := range f.Steps[name].Needs {
			if j, ok := index[need]; !ok || j >= i {
				return nil, fmt.Errorf("flow: step %q needs %q, which does not come before it in the flow's Order: make flows with Parse", name, need)
			}
		}
	}
	reads := readFields(f, cfg.Readers...)
	for _, s := range f.Steps {
		if s.Cache > 0 {
			e.cache = newResponseCache()
			break
		}
	}
	for i, name := range f.Order {
		s := f.Steps[name]
		if s.HTTP != nil && cfg.Client == nil {
			return nil, fmt.Errorf("flow: step %q is an http step and the engine has no Client", name)
		}
		p, err := compilePlan(s, i)
		if err != nil {
			return nil, fmt.Errorf("flow: step %q: %w", name, err)
		}
		p.reads = reads[name]
		for _, need := range s.Needs {
			p.needs = append(p.needs, index[need])
		}
		e.plans = append(e.plans, p)
	}
	for _, p := range e.plans {
		for _, n := range p.needs {
			e.plans[n].dependents = append(e.plans[n].dependents, p.index)
		}
	}
	if f.Output != nil {
		v, err := compileValue(f.Output)
		if err != nil {
			return nil, fmt.Errorf("flow: output: %w", err)
		}
		e.output = &v
	}
	return e, nil
}

// Flow returns the engine's flow.
func (e *Engine) Flow() *Flow { return e.flow }

// Status is how a step ended.
type Status string

// The statuses of a step.
const (
	StatusOK       Status = "ok"
	StatusFailed   Status = "failed"
	StatusSkipped  Status = "skipped"  // its if was false, or a step it needs failed
	StatusCanceled Status = "canceled" // the run was cancelled before it ended
)

// Reasons a step was skipped, or cancelled before it started.
const (
	ReasonIfFalse          = "if was false"
	ReasonDependencyFailed = "dependency failed"
	ReasonNotStarted       = "not started" // cancelled: a step without it was running
)

// Error kinds of steps, beyond fetch's (fetch.Kind) for http steps.
const (
	KindExpression = "expression"  // an expression failed, or gave a value of the wrong type
	KindAssert     = "assert"      // an assert was not true
	KindExit       = "exit_status" // the process exited with a non-zero code
	KindSignal     = "signal"      // the process was killed by a signal it was not sent by the step
	KindStart      = "start"       // the process could not be started
	KindTimeout    = "timeout"     // the step's timeout (or the exec timeout) passed
	KindTooLarge   = "too_large"   // the process wrote more than MaxOutput
	KindCanceled   = "canceled"    // the run was cancelled
)

// A StepError is why a step failed.
type StepError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func (e *StepError) Error() string { return e.Kind + ": " + e.Message }

// value is the error as expressions see it.
func (e *StepError) value() any {
	if e == nil {
		return nil
	}
	return map[string]any{"kind": e.Kind, "message": e.Message}
}

// A StepResult is how one step of a run ended.
type StepResult struct {
	Name   string
	Status Status
	// Reason says why a skipped step was skipped (ReasonIfFalse,
	// ReasonDependencyFailed), and for a cancelled step that it had not
	// started (ReasonNotStarted).
	Reason string
	// MS is the step's time, retries and every item included.
	MS float64
	// Error is why it failed, or was cancelled.
	Error *StepError
	// Optional is the step's optional flag: its failure does not fail
	// the run.
	Optional bool
	// Value is what expressions see as .steps.NAME: for an http step
	// {status, headers, body, text, ms, error}, for an exec step
	// {exit_code, stdout, stderr, ms, error}, a list of those for a
	// for_each step (in the items' order), null for a skipped step. An
	// http step builds its headers, body and text only when some
	// expression of the flow may read them (see "Costs" in the package
	// documentation): null otherwise; a JSON object body read only at
	// some keys (.steps.NAME.body.KEY) holds only those keys.
	Value any
	// HTTPStatus is the last HTTP status an http step got (0: none); for
	// a for_each step, the status of its first failed item, or of its
	// last item.
	HTTPStatus int
	// Bytes is the size of the response bodies an http step read (every
	// attempt's and item's).
	Bytes int64
	// Retries counts the step's runs beyond the first (its retries) and
	// an http step's requests sent again by the Client (transient
	// failures), every item's.
	Retries int
}

// A tally adds up what the runs of a step (its retries, its items) did.
type tally struct{ bytes, retries atomic.Int64 }

// A Failure is why a run failed: the first required step (in the
// flow's Order) that failed, or the output's expression.
type Failure struct {
	Step    string `json:"step"` // the step's name, or "output"
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Status  int    `json:"status,omitempty"` // the step's HTTP status, if it had one
}

func (f *Failure) Error() string {
	return fmt.Sprintf("step %s failed: %s: %s", f.Step, f.Kind, f.Message)
}

// Result is one run of a flow.
type Result struct {
	// Output is the flow's output built from the steps' results, or by
	// default each step's status, time and error; nil when the run failed.
	Output any
	// Steps are the steps' results, in the flow's Order.
	Steps []StepResult
	// Err is why the run failed; nil when it succeeded.
	Err *Failure
	// Canceled says the run was cancelled (its context ended) before it
	// ended: it should be run again.
	Canceled bool
	// MS is the run's time.
	MS float64
	// Bytes is the size of the response bodies the run's http steps read.
	Bytes int64
	// Retries is the steps' Retries added up.
	Retries int
	// HTTPStatus is the failed step's HTTP status when the run failed,
	// else the last one (in the flow's Order) an http step got; 0: none.
	HTTPStatus int

	defaultOutput bool // Output is DefaultOutput(Steps)
}

// Run runs the flow once, with input as .input (nil for none). Every
// step starts as soon as all it needs has ended; steps with no path
// between them run concurrently. A required step that fails makes the
// steps that need it skipped (ReasonDependencyFailed) and the run failed;
// steps that do not depend on it still run. When ctx ends, the steps in
// flight are cancelled, the others are not started, and the result is
// Canceled. Run returns once every step it started has ended (and every
// process it started has been waited for).
func (e *Engine) Run(ctx context.Context, input any) *Result {
	start := time.Now()
	n := len(e.plans)
	res := &Result{Steps: make([]StepResult, n)}
	pending := make([]int, n)
	for i, p := range e.plans {
		pending[i] = len(p.needs)
	}
	done := make(chan int, n)
	var wg sync.WaitGroup
	defer wg.Wait()
	running := 0 // steps running on goroutines of their own
	// noNeeds is the data of the steps that need none, the same for all
	// of them (expressions do not modify their data).
	var noNeeds map[string]any
	stepData := func(p *plan) map[string]any {
		if len(p.needs) > 0 {
			return e.stepData(input, p, res.Steps)
		}
		if noNeeds == nil {
			noNeeds = e.stepData(input, p, nil)
		}
		return noNeeds
	}
	launch := func(i int) {
		p := e.plans[i]
		data := stepData(p)
		running++
		wg.Add(1)
		go func() {
			defer wg.Done()
			growStack(0) // before the chain: see growStack
			res.Steps[i] = e.runStep(ctx, p, data)
			done <- i
		}()
	}
	// ready decides, once all it needs has ended, whether step i is to
	// start (toStart) or ends at once (ended): a dependency failed, or the
	// run is cancelled.
	var ended, toStart []int
	ready := func(i int) {
		p := e.plans[i]
		for _, need := range p.needs {
			r := &res.Steps[need]
			if r.Status == StatusCanceled {
				res.Steps[i] = StepResult{Name: p.Name, Status: StatusCanceled, Reason: ReasonNotStarted, Optional: p.Optional,
					Error: &StepError{Kind: KindCanceled, Message: "the run was cancelled before it started"}}
				ended = append(ended, i)
				return
			}
			if r.Status == StatusFailed && !r.Optional || r.Status == StatusSkipped && r.Reason == ReasonDependencyFailed {
				res.Steps[i] = StepResult{Name: p.Name, Status: StatusSkipped, Reason: ReasonDependencyFailed, Optional: p.Optional}
				ended = append(ended, i)
				return
			}
		}
		if ctx.Err() != nil {
			res.Steps[i] = StepResult{Name: p.Name, Status: StatusCanceled, Reason: ReasonNotStarted, Optional: p.Optional,
				Error: &StepError{Kind: KindCanceled, Message: "the run was cancelled before it started"}}
			ended = append(ended, i)
			return
		}
		toStart = append(toStart, i)
	}
	finish := func(i int) {
		for _, d := range e.plans[i].dependents {
			if pending[d]--; pending[d] == 0 {
				ready(d)
			}
		}
	}
	for i := range e.plans {
		if pending[i] == 0 {
			ready(i)
		}
	}
	for left := n; left > 0; left-- {
		var i int
		switch {
		case len(ended) > 0:
			i, ended = ended[len(ended)-1], ended[:len(ended)-1]
		case running == 0 && len(toStart) > 0 && e.leaves(toStart[:len(toStart)-1]):
			// Nothing else runs, and nothing needs the other steps to
			// start (none, or leaves): the last one runs here, on this
			// goroutine, whose stack has grown already, without delaying
			// any step (a chain starts no goroutine). Otherwise each step
			// gets a goroutine of its own, so that what ends first is
			// followed at once.
			last := toStart[len(toStart)-1]
			for _, j := range toStart[:len(toStart)-1] {
				launch(j)
			}
			toStart = toStart[:0]
			i = last
			res.Steps[i] = e.runStep(ctx, e.plans[i], stepData(e.plans[i]))
		default:
			for _, j := range toStart {
				launch(j)
			}
			toStart = toStart[:0]
			i = <-done
			running--
		}
		finish(i)
	}
	wg.Wait()
	e.conclude(ctx, input, res)
	res.MS = msSince(start)
	return res
}

// leaves reports whether no step needs any of the steps steps.
func (e *Engine) leaves(steps []int) bool {
	for _, i := range steps {
		if len(e.plans[i].dependents) > 0 {
			return false
		}
	}
	return true
}

// conclude sets the run's failure or its output.
func (e *Engine) conclude(ctx context.Context, input any, res *Result) {
	canceled := ""
	for i := range res.Steps {
		r := &res.Steps[i]
		if r.Status == StatusCanceled && canceled == "" {
			canceled = r.Name
		}
		if r.Status == StatusFailed && !r.Optional && res.Err == nil {
			res.Err = &Failure{Step: r.Name, Kind: r.Error.Kind, Message: r.Error.Message, Status: r.HTTPStatus}
		}
	}
	for i := range res.Steps {
		res.Bytes += res.Steps[i].Bytes
		res.Retries += res.Steps[i].Retries
		if res.Steps[i].HTTPStatus != 0 {
			res.HTTPStatus = res.Steps[i].HTTPStatus
		}
	}
	if res.Err != nil && res.Err.Status != 0 {
		res.HTTPStatus = res.Err.Status
	}
	if canceled != "" { // it will be run again: what failed in it is not its result
		res.Canceled = true
		res.Err = &Failure{Step: canceled, Kind: KindCanceled, Message: "the run was cancelled"}
	}
	if res.Err != nil {
		return
	}
	if e.output == nil {
		res.Output, res.defaultOutput = DefaultOutput(res.Steps), true
		return
	}
	steps := make(map[string]any, len(res.Steps))
	for _, r := range res.Steps {
		steps[r.Name] = r.Value
	}
	out, err := e.output.eval(ctx, map[string]any{"input": input, "steps": steps}, e.cfg.Limits)
	if err != nil {
		res.Err = &Failure{Step: "output", Kind: KindExpression, Message: err.Error()}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			res.Canceled = true
			res.Err.Kind = KindCanceled
		}
		return
	}
	res.Output = out
}

// DefaultOutput is the output of a flow without "output": each step's
// status, time and error (and a skipped step's reason), by name.
func DefaultOutput(steps []StepResult) map[string]any {
	out := make(map[string]any, len(steps))
	for _, r := range steps {
		out[r.Name] = r.summary()
	}
	return out
}

// summary is the step's status, time, error and reason, as JSON values.
func (r *StepResult) summary() map[string]any {
	m := map[string]any{"status": string(r.Status), "ms": round(r.MS)}
	if r.Reason != "" {
		m["reason"] = r.Reason
	}
	if r.Error != nil {
		m["error"] = r.Error.value()
	}
	return m
}

// stepData is what step p's expressions see: the input, and the results
// of the steps it needs.
func (e *Engine) stepData(input any, p *plan, results []StepResult) map[string]any {
	steps := make(map[string]any, len(p.needs))
	for _, n := range p.needs {
		steps[results[n].Name] = results[n].Value
	}
	return map[string]any{"input": input, "steps": steps}
}

// runStep runs step p: its if, then its one run or its items.
func (e *Engine) runStep(ctx context.Context, p *plan, data map[string]any) (r StepResult) {
	start := time.Now()
	r = StepResult{Name: p.Name, Optional: p.Optional, Status: StatusOK}
	var t tally
	defer func() {
		r.MS, r.Bytes, r.Retries = msSince(start), t.bytes.Load(), int(t.retries.Load())
		if r.Error != nil && r.Status == StatusOK {
			r.Status = StatusFailed
		}
		if r.Error != nil && r.Error.Kind == KindCanceled {
			r.Status = StatusCanceled
		}
	}()
	if p.ifT != nil {
		ok, err := condition(ctx, p.ifT, data, e.cfg.Limits)
		if err != nil {
			r.Error = e.exprError(ctx, "if", err)
			return r
		}
		if !ok {
			r.Status, r.Reason = StatusSkipped, ReasonIfFalse
			return r
		}
	}
	if p.forEachT == nil {
		v, status, err := e.attempts(ctx, p, data, &t)
		r.Value, r.HTTPStatus, r.Error = v, status, err
		return r
	}
	v, err := p.forEachT.Value(ctx, data, e.cfg.Limits)
	if err != nil {
		r.Error = e.exprError(ctx, "for_each", err)
		return r
	}
	items, ok := v.([]any)
	if !ok {
		r.Error = &StepError{Kind: KindExpression, Message: fmt.Sprintf("for_each: the expression gave %s, not a list", typeName(v))}
		return r
	}
	if len(items) > e.cfg.MaxItems {
		r.Error = &StepError{Kind: KindTooLarge, Message: fmt.Sprintf("for_each: %d items, more than the limit of %d", len(items), e.cfg.MaxItems)}
		return r
	}
	r.Value, r.HTTPStatus, r.Error = e.forEach(ctx, p, data, items, &t)
	return r
}

// forEach runs step p once per item, at most the step's concurrency at
// once, and gathers the results in the items' order. The first failed
// item (by index) is the step's error; once an item has failed, the items
// not started yet are not run.
func (e *Engine) forEach(ctx context.Context, p *plan, data map[string]any, items []any, t *tally) (any, int, *StepError) {
	limit := p.Concurrency
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	limit = min(limit, max(len(items), 1))
	results := make([]any, len(items))
	statuses := make([]int, len(items))
	errs := make([]*StepError, len(items))
	var (
		mu     sync.Mutex
		next   int
		failed bool
		wg     sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if failed || next >= len(items) || ctx.Err() != nil {
			return 0, false
		}
		next++
		return next - 1, true
	}
	for range limit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i, ok := take()
				if !ok {
					return
				}
				d := make(map[string]any, len(data)+2)
				for k, v := range data {
					d[k] = v
				}
				d["item"], d["index"] = items[i], i
				results[i], statuses[i], errs[i] = e.attempts(ctx, p, d, t)
				if errs[i] != nil {
					mu.Lock()
					failed = true
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	status := 0
	if len(items) > 0 {
		status = statuses[len(items)-1]
	}
	for i, err := range errs {
		if err != nil {
			return results, statuses[i], &StepError{Kind: err.Kind, Message: fmt.Sprintf("item %d: %s", i, err.Message)}
		}
	}
	if ctx.Err() != nil && next < len(items) {
		return results, status, &StepError{Kind: KindCanceled, Message: fmt.Sprintf("the run was cancelled before item %d", next)}
	}
	return results, status, nil
}

// attempts runs step p (one item of it) up to 1 + Retries times, until
// it succeeds: a step is retried whatever made it fail (a status, an
// assert, an exit code), but for an expression that failed and a cancel.
// Between attempts it waits a back-off of 200 ms doubled each time (at
// most 10 s), with jitter.
func (e *Engine) attempts(ctx context.Context, p *plan, data map[string]any, t *tally) (any, int, *StepError) {
	for a := 0; ; a++ {
		v, status, err := e.attempt(ctx, p, data, t)
		if err == nil || a >= p.Retries || !retryable(err.Kind) {
			return v, status, err
		}
		t.retries.Add(1)
		wait := min(200*time.Millisecond<<a, 10*time.Second)
		wait = wait/2 + rand.N(wait/2+1)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
		if ctx.Err() != nil { // cancelled with retries left: the step did not end
			err = &StepError{Kind: KindCanceled, Message: "the run was cancelled while the step waited to be retried"}
			if v != nil {
				v["error"] = err.value()
			}
			return v, status, err
		}
	}
}

// retryable reports whether a step that failed with kind may succeed if
// run again: not after an expression failed, a request could not be made
// (bad_input), a program could not start, or a cancel.
func retryable(kind string) bool {
	switch kind {
	case KindExpression, KindCanceled, KindStart, string(fetch.KindBadInput):
		return false
	}
	return true
}

// attempt runs step p once, within its timeout, then checks its asserts.
func (e *Engine) attempt(ctx context.Context, p *plan, data map[string]any, t *tally) (v map[string]any, status int, err *StepError) {
	actx := ctx
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeoutCause(ctx, p.Timeout, errStepTimeout)
		defer cancel()
	}
	if p.HTTP != nil {
		v, status, err = e.doHTTP(actx, p, data, t)
	} else {
		v, err = e.doExec(actx, p, data)
	}
	if err != nil && actx.Err() != nil {
		switch {
		case ctx.Err() != nil:
			err = &StepError{Kind: KindCanceled, Message: "the run was cancelled while the step ran"}
		case context.Cause(actx) == errStepTimeout:
			err = &StepError{Kind: KindTimeout, Message: fmt.Sprintf("the step's timeout of %v passed", p.Timeout)}
		}
		if v != nil {
			v["error"] = err.value()
		}
	}
	if err != nil || len(p.asserts) == 0 {
		return v, status, err
	}
	d := make(map[string]any, len(data)+len(v))
	for k, x := range data {
		d[k] = x
	}
	for k, x := range v {
		d[k] = x
	}
	for i, a := range p.asserts {
		ok, aerr := condition(actx, a, d, e.cfg.Limits)
		if aerr != nil {
			err = e.exprError(actx, fmt.Sprintf("assert %d", i+1), aerr)
		} else if !ok {
			err = &StepError{Kind: KindAssert, Message: "assert failed: " + a.String()}
		}
		if err != nil {
			v["error"] = err.value()
			return v, status, err
		}
	}
	return v, status, nil
}

var errStepTimeout = errors.New("the step's timeout")

// exprError is the error of an expression of the step (where says which),
// or the cancel that stopped it.
func (e *Engine) exprError(ctx context.Context, where string, err error) *StepError {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		if context.Cause(ctx) == errStepTimeout {
			return &StepError{Kind: KindTimeout, Message: where + ": the step's timeout passed"}
		}
		return &StepError{Kind: KindCanceled, Message: "the run was cancelled while the step ran"}
	}
	return &StepError{Kind: KindExpression, Message: where + ": " + err.Error()}
}

// headerValues is a response's header as expressions see it: lower-case
// names, several values of a name joined by ", ".
func headerValues(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		lk := lowerASCII(k)
		s := ""
		for i, v := range vs {
			if i > 0 {
				s += ", "
			}
			s += v
		}
		if prev, ok := out[lk].(string); ok {
			s = prev + ", " + s
		}
		out[lk] = s
	}
	return out
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func msSince(t time.Time) float64 { return round(float64(time.Since(t).Microseconds()) / 1000) }

// round rounds ms to a tenth of a millisecond.
func round(ms float64) float64 { return float64(int64(ms*10+0.5)) / 10 }

// Kinds returns the error kinds a flow's record can fail with: fetch's
// (for http steps) and the flow's own, as job.ParseFilter takes them.
func Kinds() []string {
	var kinds []string
	for _, k := range fetch.Kinds() {
		kinds = append(kinds, string(k))
	}
	for _, k := range []string{KindExpression, KindAssert, KindExit, KindSignal, KindStart, KindTimeout} {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// growStack grows the stack of a goroutine that has just started to 16
// KiB, what a step's call chain through fetch and net/http takes. A
// goroutine starts with 8 KiB; grown where the chain needs more, deep in
// it, its stack is copied frame by frame (twenty-odd of them), which took
// about 5 µs a step, a few percent of a gateway's CPU; grown here, with
// one frame to copy, about a quarter of that. i is 0: the pad is read
// only to be kept.
//
//go:noinline
func growStack(i int) byte {
	var pad [12 << 10]byte
	return pad[i]
}
