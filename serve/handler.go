package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/flow"
	"github.com/gogather/gather/template"
	"github.com/itchyny/gojq"
)

// HandlerConfig is how a flow answers HTTP requests.
type HandlerConfig struct {
	// Params are the names of the route's path parameters ({name} in a
	// ServeMux pattern), read with Request.PathValue.
	Params []string
	// Timeout bounds a request's flow: past it the steps in flight are
	// cancelled and the answer is 504, naming them. 0 is DefaultTimeout.
	Timeout time.Duration
	// Concurrency bounds the requests in flight: beyond it, 503 with
	// Retry-After, at once. 0 is DefaultConcurrency.
	Concurrency int
	// MaxRequestBody bounds a request's body: beyond it, 413. 0 is
	// DefaultMaxRequestBody.
	MaxRequestBody int64
	// Response builds the answer; nil answers 200 with the output as
	// JSON.
	Response *Response
	// Done, when not nil, is called once a request is answered, with the
	// status, for metrics and logs.
	Done func(r *http.Request, status int, res *flow.Result)
}

// A Handler runs a flow for each request: the flow's .input is
// {"path": {...}, "query": {...}, "headers": {...}, "body": ...}.
type Handler struct {
	engine *flow.Engine
	cfg    HandlerConfig
	slots  chan struct{}
	resp   *compiledResponse
}

// NewHandler returns a handler running e's flow for each request. e's
// Config.Readers should hold cfg.Response's strings (ResponseReaders), so
// that the fields they read are built. Its error is a response whose
// expressions do not compile.
//
// The handler bounds what a request takes (its body, its time, the
// route's slots) but not where the flow's calls go: that is the engine's
// fetch.Client's AllowHosts (New sets it to the gateway's upstreams).
// A flow whose URLs take a client's values should escape them (@uri) and
// run on a client with AllowHosts.
func NewHandler(e *flow.Engine, cfg HandlerConfig) (*Handler, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MaxRequestBody <= 0 {
		cfg.MaxRequestBody = DefaultMaxRequestBody
	}
	h := &Handler{engine: e, cfg: cfg, slots: make(chan struct{}, cfg.Concurrency)}
	if cfg.Response != nil {
		var err error
		if h.resp, err = compileResponse(cfg.Response); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ResponseReaders returns the strings of a response, for
// flow.Config.Readers.
func ResponseReaders(r *Response) []string { return r.readerTexts() }

// writeMargin is how long after the route's timeout its answer may take
// to be written.
const writeMargin = 10 * time.Second

// errRouteTimeout is the cause of a route's timeout.
var errRouteTimeout = errors.New("the route's timeout")

// ServeHTTP runs the flow for r and answers: its output, or the errors
// and limits the package documentation lists.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status := 0
	var res *flow.Result
	defer func() {
		if h.cfg.Done != nil {
			h.cfg.Done(r, status, res)
		}
	}()
	// The request is read whole before it takes one of the route's slots,
	// within the route's timeout: a client sending its body slowly holds
	// no slot, and no more than the timeout. The answer has the timeout
	// and a margin to be written.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(h.cfg.Timeout))
	rc.SetWriteDeadline(time.Now().Add(h.cfg.Timeout + writeMargin))
	input, err := h.input(w, r)
	// Read: no deadline now (net/http's watch for a client going away
	// would take one for the client leaving, and cancel the request).
	rc.SetReadDeadline(time.Time{})
	if err == nil {
		select {
		case h.slots <- struct{}{}:
			defer func() { <-h.slots }()
		default:
			w.Header().Set("Retry-After", "1")
			status = http.StatusServiceUnavailable
			writeError(w, status, map[string]any{"message": fmt.Sprintf("the route has %d requests in flight, its limit: try again", h.cfg.Concurrency)})
			return
		}
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			status = http.StatusRequestEntityTooLarge
			writeError(w, status, map[string]any{"message": fmt.Sprintf("the request's body is larger than %d bytes", h.cfg.MaxRequestBody)})
			return
		}
		status = http.StatusBadRequest
		writeError(w, status, map[string]any{"message": err.Error()})
		return
	}
	ctx, cancel := context.WithTimeoutCause(r.Context(), h.cfg.Timeout, errRouteTimeout)
	defer cancel()
	res = h.engine.Run(ctx, input)
	status = h.answer(w, r, ctx, input, res)
}

// input builds the flow's input from the request.
func (h *Handler) input(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	path := make(map[string]any, len(h.cfg.Params))
	for _, name := range h.cfg.Params {
		v := r.PathValue(name)
		// A parameter is one segment: once decoded, a / ? # \ or a
		// . or .. would let a client move a URL built from it to
		// another path of the upstream (../../admin?x=).
		if strings.ContainsAny(v, "/?#\\") || v == "." || v == ".." {
			return nil, fmt.Errorf("path parameter %s: %q holds / ? # \\, or is . or ..", name, v)
		}
		path[name] = v
	}
	query := map[string]any{}
	for k, vs := range r.URL.Query() {
		if len(vs) == 1 {
			query[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		query[k] = list
	}
	headers := make(map[string]any, len(r.Header))
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	var body any
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxRequestBody))
		if err != nil {
			return nil, err
		}
		if len(b) > 0 {
			body = string(b)
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" || strings.HasSuffix(mt, "+json") {
				d := json.NewDecoder(bytes.NewReader(b))
				d.UseNumber()
				var v any
				if err := d.Decode(&v); err != nil {
					return nil, fmt.Errorf("the request's body is not the JSON its Content-Type says: %v", err)
				}
				if _, err := d.Token(); err != io.EOF {
					return nil, errors.New("the request's body is not the JSON its Content-Type says: more after the value")
				}
				body = v
			}
		}
	}
	return map[string]any{"path": path, "query": query, "headers": headers, "body": body}, nil
}

// answer writes the response to a run of the flow, and returns its
// status.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, ctx context.Context, input any, res *flow.Result) int {
	switch {
	case res.Canceled && context.Cause(ctx) == errRouteTimeout && r.Context().Err() == nil:
		running := []any{}
		for _, s := range res.Steps {
			if s.Status == flow.StatusCanceled && s.Reason != flow.ReasonNotStarted {
				running = append(running, s.Name)
			}
		}
		writeError(w, http.StatusGatewayTimeout, map[string]any{
			"message": fmt.Sprintf("the route's timeout of %v passed", h.cfg.Timeout),
			"running": running,
		}, map[string]any{"_steps": stepSummaries(res)})
		return http.StatusGatewayTimeout
	case res.Canceled: // the client went away: nobody to answer
		return 499
	case res.Err != nil:
		e := map[string]any{"step": res.Err.Step, "kind": res.Err.Kind, "message": publicMessage(res.Err.Kind, res.Err.Message)}
		if res.Err.Status != 0 {
			e["status"] = res.Err.Status
		}
		writeError(w, http.StatusBadGateway, e, map[string]any{"_steps": stepSummaries(res)})
		return http.StatusBadGateway
	}
	complete := true
	for _, s := range res.Steps {
		if s.Status == flow.StatusFailed {
			complete = false
		}
	}
	status, header, body, err := h.build(ctx, input, res)
	if err != nil {
		writeError(w, http.StatusInternalServerError, map[string]any{"step": "response", "kind": flow.KindExpression, "message": err.Error()})
		return http.StatusInternalServerError
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	// A string body the response built is sent as text; anything else
	// as JSON.
	text, isText := body.(string)
	isText = isText && h.resp != nil && h.resp.HasBody
	if !complete {
		w.Header().Set("X-Gather-Completed", "false")
		switch m, isMap := body.(map[string]any); {
		case isMap:
			m["_steps"] = stepSummaries(res)
		case !isText: // a text answer has the header only
			body = map[string]any{"output": body, "_steps": stepSummaries(res)}
		}
	}
	var b []byte
	if isText {
		b = []byte(text)
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
	} else {
		if b, err = gojq.Marshal(body); err != nil {
			writeError(w, http.StatusInternalServerError, map[string]any{"step": "response", "message": err.Error()})
			return http.StatusInternalServerError
		}
		b = append(b, '\n')
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
	return status
}

// stepSummaries are the "_steps" of an answer: {NAME: {status, ms,
// error, http_status}}.
func stepSummaries(res *flow.Result) map[string]any {
	steps := make(map[string]any, len(res.Steps))
	for _, s := range res.Steps {
		m := flow.DefaultOutput([]flow.StepResult{s})[s.Name].(map[string]any)
		if s.Error != nil {
			m["error"] = map[string]any{"kind": s.Error.Kind, "message": publicMessage(s.Error.Kind, s.Error.Message)}
		}
		if s.HTTPStatus != 0 {
			m["http_status"] = s.HTTPStatus
		}
		steps[s.Name] = m
	}
	return steps
}

// publicMessages say what failed for the transport's kinds, whose own
// messages name the gateway's network (addresses, ports, resolvers):
// the client gets these, the access log the kind.
var publicMessages = map[string]string{
	string(fetch.KindDNS):            "the upstream's name did not resolve",
	string(fetch.KindConnect):        "the upstream could not be reached",
	string(fetch.KindTLS):            "the TLS handshake with the upstream failed",
	string(fetch.KindTimeoutConnect): "connecting to the upstream timed out",
	string(fetch.KindTimeoutTLS):     "the TLS handshake with the upstream timed out",
	string(fetch.KindReset):          "the upstream closed the connection",
	string(fetch.KindBadResponse):    "the upstream's answer was not valid HTTP",
	string(fetch.KindOther):          "the call to the upstream failed",
}

// publicMessage is what a client is told of a step's error.
func publicMessage(kind, msg string) string {
	if m, ok := publicMessages[kind]; ok {
		return m
	}
	return msg
}

// writeError writes a JSON error answer {"error": e, more...}.
func writeError(w http.ResponseWriter, status int, e map[string]any, more ...map[string]any) {
	body := map[string]any{"error": e}
	for _, m := range more {
		for k, v := range m {
			body[k] = v
		}
	}
	b, _ := gojq.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// compiledResponse is a Response with its templates parsed.
type compiledResponse struct {
	status  *template.Template
	headers map[string]*template.Template
	body    *flow.Value
	HasBody bool
}

func compileResponse(r *Response) (*compiledResponse, error) {
	c := &compiledResponse{headers: map[string]*template.Template{}, HasBody: r.HasBody}
	var err error
	if r.Status != "" {
		if c.status, err = template.Parse(r.Status); err != nil {
			return nil, fmt.Errorf("response status: %w", err)
		}
	}
	for k, v := range r.Headers {
		if c.headers[k], err = template.Parse(v); err != nil {
			return nil, fmt.Errorf("response header %s: %w", k, err)
		}
	}
	if r.HasBody {
		if c.body, err = flow.CompileValue(r.Body); err != nil {
			return nil, fmt.Errorf("response body: %w", err)
		}
	}
	return c, nil
}

// build makes the answer's status, header and body.
func (h *Handler) build(ctx context.Context, input any, res *flow.Result) (int, http.Header, any, error) {
	if h.resp == nil {
		return http.StatusOK, nil, res.Output, nil
	}
	steps := make(map[string]any, len(res.Steps))
	for _, s := range res.Steps {
		steps[s.Name] = s.Value
	}
	data := map[string]any{"input": input, "steps": steps, "output": res.Output}
	lim := template.Limits{}
	status := http.StatusOK
	if h.resp.status != nil {
		v, err := h.resp.status.Value(ctx, data, lim)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("status: %v", err)
		}
		n, ok := statusCode(v)
		if !ok {
			return 0, nil, nil, fmt.Errorf("status: %v is not a status from 200 to 599", v)
		}
		status = n
	}
	header := http.Header{}
	for k, t := range h.resp.headers {
		v, err := t.ExecuteLimits(ctx, data, lim)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("header %s: %v", k, err)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return 0, nil, nil, fmt.Errorf("header %s: the value holds a line break or a NUL", k)
		}
		header.Set(k, v)
	}
	body := res.Output
	if h.resp.body != nil {
		var err error
		if body, err = h.resp.body.Eval(ctx, data, lim); err != nil {
			return 0, nil, nil, fmt.Errorf("body: %v", err)
		}
	}
	return status, header, body, nil
}

// statusCode reads a status from an expression's value: a number or its
// text.
func statusCode(v any) (int, bool) {
	var n int
	switch v := v.(type) {
	case int:
		n = v
	case float64:
		n = int(v)
		if float64(n) != v {
			return 0, false
		}
	case json.Number:
		i, err := v.Int64()
		if err != nil {
			return 0, false
		}
		n = int(i)
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, false
		}
		n = i
	default:
		return 0, false
	}
	return n, n >= 200 && n <= 599
}
