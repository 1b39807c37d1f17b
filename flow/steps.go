package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/redact"
	"github.com/gogather/gather/proc"
	"github.com/gogather/gather/template"
	"github.com/itchyny/gojq"
)

// A plan is a step compiled: its templates parsed once, for every run.
type plan struct {
	*Step
	index      int
	reads      fields // the fields of its result that expressions read
	needs      []int  // indices of the steps it needs
	dependents []int  // indices of the steps that need it

	ifT, forEachT *template.Template
	asserts       []*template.Template

	// http
	method      *template.Template // nil when constMethod says it
	constMethod string             // a method without expressions, checked once
	url         *template.Template
	headers     []namedTemplate // sorted by name
	json        *value
	form        []namedTemplate // sorted by name
	body        *template.Template

	// quick says every expression of the request or process is quick
	// (template.Quick): filling them needs no time limit.
	quick bool

	// exec
	command []*template.Template
	stdin   *template.Template
	env     []namedTemplate // sorted by name
	dir     *template.Template
}

type namedTemplate struct {
	name string
	t    *template.Template
}

func compilePlan(s *Step, index int) (*plan, error) {
	p := &plan{Step: s, index: index}
	var err error
	parse := func(src string) *template.Template {
		if err != nil {
			return nil
		}
		var t *template.Template
		t, err = template.Parse(src)
		return t
	}
	named := func(m map[string]string) []namedTemplate {
		out := make([]namedTemplate, 0, len(m))
		for k, v := range m {
			out = append(out, namedTemplate{k, parse(v)})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
		return out
	}
	if s.If != "" {
		p.ifT = parse(s.If)
	}
	if s.ForEach != "" {
		p.forEachT = parse(s.ForEach)
	}
	for _, a := range s.Assert {
		p.asserts = append(p.asserts, parse(a))
	}
	if h := s.HTTP; h != nil {
		if h.Method != "" {
			p.method = parse(h.Method)
			if p.method != nil && p.method.IsConstant() {
				if m, _ := p.method.Execute(nil); httpMethod.MatchString(m) {
					p.constMethod, p.method = m, nil
				}
			}
		}
		p.url = parse(h.URL)
		p.headers = named(h.Headers)
		switch h.BodyKind {
		case BodyJSON:
			v, verr := compileValue(h.JSON)
			if verr != nil && err == nil {
				err = verr
			}
			p.json = &v
		case BodyForm:
			p.form = named(h.Form)
		case BodyText:
			p.body = parse(h.Body)
		}
	}
	if x := s.Exec; x != nil {
		for _, a := range x.Command {
			p.command = append(p.command, parse(a))
		}
		if x.Stdin != "" {
			p.stdin = parse(x.Stdin)
		}
		p.env = named(x.Env)
		if x.Dir != "" {
			p.dir = parse(x.Dir)
		}
	}
	p.quick = err == nil && p.allQuick()
	return p, err
}

// allQuick reports whether every template of the step's request or
// process is quick.
func (p *plan) allQuick() bool {
	ts := []*template.Template{p.method, p.url, p.body, p.stdin, p.dir}
	ts = append(ts, p.command...)
	for _, l := range [][]namedTemplate{p.headers, p.form, p.env} {
		for _, n := range l {
			ts = append(ts, n.t)
		}
	}
	for _, t := range ts {
		if t != nil && !t.Quick() {
			return false
		}
	}
	return p.json == nil || p.json.quick()
}

// doHTTP sends step p's request and returns its result: {status,
// headers, body, text, ms, error}. A status that is not 2xx fails the
// step (kind http_status), with the response in its result.
func (e *Engine) doHTTP(ctx context.Context, p *plan, data map[string]any, t *tally) (map[string]any, int, *StepError) {
	xctx, lim, done := e.expressions(ctx, p.quick)
	defer done()
	u, err := p.url.ExecuteLimits(xctx, data, lim)
	if err != nil {
		return nil, 0, e.exprError(ctx, "url", err)
	}
	req := fetch.Request{Method: http.MethodGet, URL: u}
	if len(p.headers) > 0 || p.json != nil || p.form != nil || p.body != nil {
		req.Header = make(http.Header, len(p.headers)+1)
	}
	if p.constMethod != "" {
		req.Method = p.constMethod
	}
	if p.method != nil {
		m, err := p.method.ExecuteLimits(xctx, data, lim)
		if err != nil {
			return nil, 0, e.exprError(ctx, "method", err)
		}
		if !httpMethod.MatchString(m) {
			return nil, 0, &StepError{Kind: string(fetch.KindBadInput), Message: fmt.Sprintf("method %q: an HTTP method is letters only", shortText(m))}
		}
		req.Method = m
	}
	for _, h := range p.headers {
		v, err := h.t.ExecuteLimits(xctx, data, lim)
		if err != nil {
			if redact.SensitiveHeader(h.name) && ctx.Err() == nil {
				return nil, 0, &StepError{Kind: KindExpression, Message: fmt.Sprintf("header %s: the expression failed; the message is not shown, as it may quote the value of a secret header", h.name)}
			}
			return nil, 0, e.exprError(ctx, "header "+h.name, err)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, 0, &StepError{Kind: KindExpression, Message: fmt.Sprintf("header %s: the value holds a line break or a NUL", h.name)}
		}
		req.Header.Set(h.name, v)
	}
	contentType := ""
	switch {
	case p.json != nil:
		v, err := p.json.eval(xctx, data, lim)
		if err != nil {
			return nil, 0, e.exprError(ctx, "json", err)
		}
		if req.Body, err = gojq.Marshal(v); err != nil {
			return nil, 0, &StepError{Kind: KindExpression, Message: "json: " + err.Error()}
		}
		contentType = "application/json"
	case p.form != nil:
		form := url.Values{}
		for _, f := range p.form {
			v, err := f.t.ExecuteLimits(xctx, data, lim)
			if err != nil {
				return nil, 0, e.exprError(ctx, "form "+f.name, err)
			}
			form.Set(f.name, v)
		}
		req.Body = []byte(form.Encode())
		contentType = "application/x-www-form-urlencoded"
	case p.body != nil:
		b, err := p.body.ExecuteLimits(xctx, data, lim)
		if err != nil {
			return nil, 0, e.exprError(ctx, "body", err)
		}
		req.Body = []byte(b)
		contentType = "text/plain; charset=utf-8"
	}
	if contentType != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	done() // the expressions are filled: the request has the step's own time
	if err := template.CheckScheme(u); err != nil {
		return nil, 0, &StepError{Kind: string(fetch.KindBadInput), Message: fmt.Sprintf("url %q: %v", redact.URL(u), err)}
	}
	var (
		rec    fetch.Record
		resp   *fetch.Response
		hit    bool
		key    string
		cached cached
	)
	if p.Cache > 0 && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		key = cacheKey(p.Name, req)
		if cached, hit = e.cache.get(key, time.Now()); hit {
			rec, resp = cached.rec, cached.resp
			rec.MS = 0
		}
	}
	if !hit && key != "" {
		// Runs missing the same answer at once share one call: the first
		// makes it (on its own goroutine), the others wait for it. A
		// waiter waits as long as that call takes, which its maker's
		// timeouts bound.
		mine := false
		v, _, _ := e.cache.flight.Do(key, func() (any, error) {
			mine = true
			rec, resp := e.send(ctx, req, t)
			e.cache.put(key, rec, resp, p.Cache, time.Now())
			return fetched{rec, resp}, nil
		})
		f := v.(fetched)
		rec, resp, hit = f.rec, f.resp, !mine
		if hit && rec.Error != nil && rec.Error.Kind == fetch.KindCanceled && ctx.Err() == nil {
			// The run that made the call was cancelled, not this one.
			rec, resp = e.send(ctx, req, t)
			hit = false
		}
	} else if !hit {
		rec, resp = e.send(ctx, req, t)
	}
	v := map[string]any{"status": rec.Status, "headers": nil, "body": nil, "text": nil, "ms": round(rec.MS), "error": nil}
	if hit {
		v["cached"] = true
	}
	if p.reads.headers {
		v["headers"] = map[string]any{}
	}
	if p.reads.text {
		v["text"] = ""
	}
	if resp != nil {
		if p.reads.headers {
			v["headers"] = headerValues(resp.Header)
		}
		if p.reads.text {
			v["text"] = resp.Text()
		}
		if p.reads.body && isJSON(resp.Header.Get("Content-Type")) && len(resp.Body) > 0 {
			v["body"] = decodeJSONKeys(resp.Body, p.reads.keys)
		}
	}
	if rec.Error != nil {
		err := &StepError{Kind: string(rec.Error.Kind), Message: withoutURL(rec.Error.Message)}
		v["error"] = err.value()
		return v, rec.Status, err
	}
	return v, rec.Status, nil
}

// expressions returns the context and limits to fill a step's
// expressions with: one time limit (Config.Limits.Time, 1 s by default)
// for all of them together, on one timer, or none when they are all
// quick (template.Quick); done releases it.
func (e *Engine) expressions(ctx context.Context, quick bool) (context.Context, template.Limits, func()) {
	lim := e.cfg.Limits
	if lim.Time < 0 || quick { // nothing to stop: no timer
		lim.Time = -1
		return ctx, lim, func() {}
	}
	d := lim.Time
	if d == 0 {
		d = template.DefaultTime
	}
	xctx, cancel := template.WithTimeLimit(ctx, d)
	lim.Time = -1
	return xctx, lim, cancel
}

// requestPrefix is how net/http starts the error of a request: its method
// and URL.
var requestPrefix = regexp.MustCompile(`^[A-Za-z]+ "(?:[^"\\]|\\.)*": `)

// withoutURL returns an engine's error message without the request's URL
// that net/http puts first (Get "https://api.example.com/x?token=...":
// dial tcp ...): a flow's URL is often built from secrets (a token from
// a login step), and the step names the request well enough.
func withoutURL(msg string) string {
	return requestPrefix.ReplaceAllString(msg, "")
}

// send sends a step's request, counting it (OnHTTP, the tally).
func (e *Engine) send(ctx context.Context, req fetch.Request, t *tally) (fetch.Record, *fetch.Response) {
	rec, resp := e.cfg.Client.DoResponse(ctx, req)
	if e.cfg.OnHTTP != nil {
		e.cfg.OnHTTP(rec)
	}
	t.bytes.Add(rec.Bytes)
	if rec.Attempts > 1 {
		t.retries.Add(int64(rec.Attempts - 1))
	}
	return rec, resp
}

// isJSON reports whether a Content-Type is JSON: application/json, or any
// type with a +json suffix (application/problem+json).
func isJSON(contentType string) bool {
	if contentType == "application/json" { // the usual one, without parsing
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// decodeJSON decodes a JSON body, numbers kept as they were written
// (json.Number): a large integer id passes through exactly. A body that
// is not valid JSON (one value) is null: .text still has it.
func decodeJSON(b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil
	}
	if _, err := d.Token(); err != io.EOF {
		return nil
	}
	return v
}

// doExec runs step p's process and returns its result: {exit_code,
// stdout, stderr, ms, error}. A non-zero exit fails the step.
func (e *Engine) doExec(ctx context.Context, p *plan, data map[string]any) (map[string]any, *StepError) {
	xctx, lim, done := e.expressions(ctx, p.quick)
	defer done()
	args := make([]string, len(p.command))
	for i, t := range p.command {
		a, err := t.ExecuteLimits(xctx, data, lim)
		if err != nil {
			return nil, e.exprError(ctx, fmt.Sprintf("command[%d]", i), err)
		}
		args[i] = a
	}
	cmd := proc.Cmd{Args: args, Dir: e.cfg.Dir, Timeout: p.Exec.Timeout, Grace: e.cfg.Grace, MaxOutput: e.cfg.MaxOutput}
	if p.stdin != nil {
		in, err := p.stdin.Value(xctx, data, lim)
		if err != nil {
			return nil, e.exprError(ctx, "stdin", err)
		}
		s, ok := in.(string)
		if !ok && in != nil {
			b, err := gojq.Marshal(in)
			if err != nil {
				return nil, &StepError{Kind: KindExpression, Message: "stdin: " + err.Error()}
			}
			s = string(b)
		}
		cmd.Stdin = strings.NewReader(s)
	}
	if len(p.env) > 0 {
		cmd.Env = os.Environ()
		for _, v := range p.env {
			val, err := v.t.ExecuteLimits(xctx, data, lim)
			if err != nil {
				if ctx.Err() == nil { // an environment variable is often a secret: its value is not quoted
					return nil, &StepError{Kind: KindExpression, Message: fmt.Sprintf("env %s: the expression failed; the message is not shown, as it may quote the value of a secret", v.name)}
				}
				return nil, e.exprError(ctx, "env "+v.name, err)
			}
			cmd.Env = append(cmd.Env, v.name+"="+val)
		}
	}
	if p.dir != nil {
		d, err := p.dir.ExecuteLimits(xctx, data, lim)
		if err != nil {
			return nil, e.exprError(ctx, "dir", err)
		}
		if !filepath.IsAbs(d) && e.cfg.Dir != "" {
			d = filepath.Join(e.cfg.Dir, d)
		}
		cmd.Dir = d
	}
	done()
	start := time.Now()
	v := map[string]any{"exit_code": nil, "stdout": "", "stderr": "", "ms": 0.0, "error": nil}
	fail := func(err *StepError) (map[string]any, *StepError) {
		v["ms"] = msSince(start)
		v["error"] = err.value()
		return v, err
	}
	pr, err := proc.Start(ctx, cmd)
	if err != nil {
		if cmd.Dir != "" {
			if _, serr := os.Stat(cmd.Dir); serr != nil { // the directory, not the program
				return fail(&StepError{Kind: KindStart, Message: fmt.Sprintf("cannot start %q: dir: %v", args[0], serr)})
			}
		}
		return fail(&StepError{Kind: KindStart, Message: procMessage(err)})
	}
	out, readErr := io.ReadAll(io.LimitReader(pr.Stdout(), int64(e.cfg.MaxOutput)+1))
	waitCtx, stop := context.WithCancel(ctx)
	tooLarge := len(out) > e.cfg.MaxOutput
	if tooLarge {
		stop() // Wait stops the process
		out = out[:e.cfg.MaxOutput]
	}
	code, werr := pr.Wait(waitCtx)
	stop()
	stderr, _ := pr.Stderr()
	// out is not written again: the string shares its bytes (a 10 MiB
	// output is not held twice).
	v["stdout"], v["stderr"], v["ms"] = unsafe.String(unsafe.SliceData(out), len(out)), string(stderr), msSince(start)
	if code >= 0 {
		v["exit_code"] = code
	}
	var (
		exit    *proc.ExitError
		signal  *proc.SignalError
		stopped *proc.StoppedError
	)
	switch {
	case tooLarge:
		return fail(&StepError{Kind: KindTooLarge, Message: fmt.Sprintf("the process wrote more than %d bytes to its standard output", e.cfg.MaxOutput)})
	case errors.As(werr, &exit):
		return fail(&StepError{Kind: KindExit, Message: procMessage(werr)})
	case errors.As(werr, &signal):
		return fail(&StepError{Kind: KindSignal, Message: procMessage(werr)})
	case errors.As(werr, &stopped):
		if ctx.Err() == nil && errors.Is(werr, context.DeadlineExceeded) { // the exec timeout
			return fail(&StepError{Kind: KindTimeout, Message: fmt.Sprintf("the process ran past its timeout of %v and was stopped", p.Exec.Timeout)})
		}
		return fail(&StepError{Kind: KindCanceled, Message: procMessage(werr)})
	case werr != nil:
		return fail(&StepError{Kind: KindExit, Message: procMessage(werr)})
	case readErr != nil:
		return fail(&StepError{Kind: KindExit, Message: "reading the output: " + readErr.Error()})
	}
	return v, nil
}

// procMessage is a proc error's message without its package prefix.
func procMessage(err error) string { return strings.TrimPrefix(err.Error(), "proc: ") }
