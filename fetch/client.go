package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogather/gather"
	"github.com/gogather/gather/internal/redact"
	"golang.org/x/time/rate"
)

// A Request is one input turned into an HTTP request.
type Request struct {
	Line   int // 1-based input line, copied to the Record
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Keep holds input fields copied to the Record's Input, so that results
	// can be joined back to their inputs.
	Keep map[string]any
	// Err, when set, means the input could not be turned into a request:
	// its Record is a bad_input error with this message, and nothing is sent.
	Err error
}

// A Client runs requests. It is safe for concurrent use: every call on it
// (Run, Do, Get, Post, Fetch, GetJSON) shares its limits and its per-host
// state. Close it when done.
type Client struct {
	cfg       Config
	transport *http.Transport
	resolver  *resolver
	http      *http.Client
	rate      *rate.Limiter // nil when unlimited
	// header is Config.Header with the User-Agent: the headers of every
	// request that brings none of its own. It is shared by those requests
	// and never modified (net/http only reads a request's headers).
	header http.Header

	// slots holds a token per request in flight, Concurrency at most,
	// whichever call made it.
	slots chan struct{}

	mu      sync.Mutex
	hosts   map[string]*hostState // see "Per-host state"
	free    []*hostState          // dropped states, for reuse
	sweepAt int                   // the table's size at which it is swept

	// allow is Config.AllowHosts' set; nil allows every host.
	allow allowList

	// traceReuse says attempts' traces may be reused: no proxy is set in
	// the environment, so that a plain-HTTP request makes no TLS
	// handshake (see Client.attempt).
	traceReuse bool

	// The counters of Load.
	onWire, waitingSlot, waitingRate, waitingRetry atomic.Int64
}

// Load is a snapshot of what a Client is doing, for a progress display.
// Under Run, OnWire + WaitingRate + WaitingRetry is at most the
// Concurrency: an input holds a slot while it waits for a rate or a
// retry. Calls of Do, Get, Post, Fetch and GetJSON outside Run are counted
// too.
type Load struct {
	// OnWire counts attempts in progress: connecting, sending, waiting
	// for the response, reading the body.
	OnWire int64
	// WaitingSlot counts inputs read and waiting for a slot, the overall
	// Concurrency's or their host's (PerHost).
	WaitingSlot int64
	// WaitingRate counts inputs waiting for a rate limit's token or for
	// the end of their host's Retry-After pause.
	WaitingRate int64
	// WaitingRetry counts inputs waiting out the back-off before a retry.
	WaitingRetry int64
}

// Load returns the client's load now: a few atomic loads, cheap enough
// to call at every frame of a progress display. The four counts are read
// one after another, not at one instant.
func (c *Client) Load() Load {
	return Load{OnWire: c.onWire.Load(), WaitingSlot: c.waitingSlot.Load(),
		WaitingRate: c.waitingRate.Load(), WaitingRetry: c.waitingRetry.Load()}
}

// New returns a client for cfg, or an error naming the setting that is
// wrong.
func New(cfg Config) (*Client, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	perHostConns := cfg.PerHost
	if perHostConns == 0 {
		perHostConns = cfg.Concurrency
	}
	allow, _ := parseAllowHosts(cfg.AllowHosts) // setDefaults checked it
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	res := newResolver(cfg.ConnectTimeout)
	headerTimeout := cfg.HeaderTimeout
	if headerTimeout > cfg.AttemptTimeout+cfg.AttemptTimeout/1000 {
		headerTimeout = 0 // the attempt timeout comes first: see Config.HeaderTimeout
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           res.dialContext(dialer.DialContext),
		TLSHandshakeTimeout:   cfg.TLSTimeout,
		ResponseHeaderTimeout: headerTimeout,
		MaxIdleConns:          2 * cfg.Concurrency,
		MaxIdleConnsPerHost:   perHostConns,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     cfg.HTTP2,
	}
	if cfg.TLS != nil {
		tr.TLSClientConfig = cfg.TLS.Clone()
	}
	if !cfg.HTTP2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	c := &Client{cfg: cfg, transport: tr, resolver: res, hosts: make(map[string]*hostState),
		slots: make(chan struct{}, cfg.Concurrency), sweepAt: sweepMin, allow: allow}
	c.traceReuse = true
	for _, v := range [...]string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		if os.Getenv(v) != "" {
			c.traceReuse = false
		}
	}
	c.header = make(http.Header, len(cfg.Header)+1)
	c.setHeaders(c.header, nil)
	c.http = &http.Client{
		Transport: locationChecker{tr},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if cfg.MaxRedirects == 0 {
				return http.ErrUseLastResponse // record the redirect itself
			}
			if len(via) > cfg.MaxRedirects {
				return fmt.Errorf("%w: stopped after %d", errRedirectLoop, cfg.MaxRedirects)
			}
			// The next request is checked and encoded as an input is.
			u := req.URL
			var err error
			switch {
			case u.Scheme != "http" && u.Scheme != "https":
				err = errors.New("scheme must be http or https")
			case !validPort(u.Port()):
				err = fmt.Errorf("port %q is not between 1 and 65535", u.Port())
			default:
				err = checkHost(u)
			}
			if err != nil {
				return &responseError{fmt.Sprintf("redirect to %q: %v", redact.URL(u.String()), err)}
			}
			// A redirect to a host not allowed is refused before it is dialled.
			if err := allow.checkRedirect(u); err != nil {
				return err
			}
			encodeURL(u)
			return nil
		},
	}
	if cfg.Rate > 0 {
		c.rate = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	return c, nil
}

// Concurrency returns the client's limit on requests in flight.
func (c *Client) Concurrency() int { return c.cfg.Concurrency }

// Close releases the client's idle connections.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Run fetches every request of reqs and yields one Record per request, as
// each completes (or in input order with Config.Ordered). It reads reqs
// only as fast as slots free up, so reqs may be endless. Breaking out of the
// loop cancels what is in flight and waits for it. When ctx is done, no new
// request starts and the ones in flight end with a canceled record, or a
// deadline one (KindDeadline) when it was ctx's deadline that passed.
func (c *Client) Run(ctx context.Context, reqs iter.Seq[Request], options ...RunOption) iter.Seq[Record] {
	var ro runOptions
	for _, o := range options {
		o(&ro)
	}
	var opts []gather.MapOption
	if c.cfg.PerHost > 0 {
		opts = append(opts, gather.ReadAhead(c.cfg.ReadAhead))
	}
	if c.cfg.Ordered {
		opts = append(opts, gather.Ordered(4*c.cfg.Concurrency))
	}
	return func(yield func(Record) bool) {
		// waiting counts this run's inputs read and not started, so that
		// the client's count is put right when the run ends early.
		var waiting atomic.Int64
		defer func() { c.waitingSlot.Add(-waiting.Swap(0)) }()
		unwait := func() {
			waiting.Add(-1)
			c.waitingSlot.Add(-1)
		}
		shared := &sharedContexts{timeout: c.cfg.AttemptTimeout}
		defer shared.end()
		prepare := func(yield func(prepared) bool) {
			var memo hostMemo // the sequence is read one request at a time
			for r := range reqs {
				waiting.Add(1)
				c.waitingSlot.Add(1)
				if !yield(c.prepareWith(r, &memo)) {
					return
				}
			}
		}
		do := func(ctx context.Context, p prepared) (rec Record, _ error) {
			unwait()
			defer func() {
				// An engine bug on one input is that input's record; the run goes on.
				if r := recover(); r != nil {
					rec = Record{Line: p.req.Line, URL: p.req.URL, Method: p.req.Method, Input: p.req.Keep, host: p.host,
						Error: &Error{Kind: KindOther, Message: redact.Text(fmt.Sprintf("internal error: %v", r))}}
				}
			}()
			return c.doShared(ctx, p, ro.stop, shared, nil), nil
		}
		results := gather.Map(ctx, prepare, c.cfg.Concurrency, do, opts...)
		if c.cfg.PerHost > 0 {
			results = gather.MapKeyed(ctx, prepare, c.cfg.Concurrency, gather.PerKey(c.cfg.PerHost, func(p prepared) string { return p.host }), do, opts...)
		}
		for r := range results {
			rec := r.Value
			if r.Err != nil { // a panic, or cancelled while waiting for its host's slot
				unwait()
				rec = Record{Line: r.Input.req.Line, URL: r.Input.req.URL, Method: r.Input.req.Method, Input: r.Input.req.Keep, host: r.Input.host,
					Error: &Error{Kind: KindCanceled, Message: redact.Text(r.Err.Error())}}
				if _, ok := errors.AsType[*gather.PanicError](r.Err); ok {
					rec.Error.Kind = KindOther
				} else if ctx.Err() != nil {
					rec.Error = c.stopError(ctx, r.Err)
				}
			}
			if !yield(rec) {
				return
			}
		}
	}
}

// Do fetches one request, with retries, and returns its Record: Run for
// one request, under the same limits, shared with every other call on the
// client. For a Go program that wants the response rather than a Record,
// see Get and Fetch.
func (c *Client) Do(ctx context.Context, req Request) Record {
	return c.do(ctx, c.prepare(req), nil, nil)
}

// A RunOption changes how Run runs.
type RunOption func(*runOptions)

type runOptions struct {
	stop <-chan struct{}
}

// StopStarting returns an option under which, once stop is closed, Run
// sends no new request: an input not started yet, or waiting for its host,
// its rate limit or a retry, ends at once with a canceled record (with the
// last attempt's status, if it had one) and nothing more is sent. Requests
// in flight go on until Run's context ends. It is a graceful stop's first
// step.
func StopStarting(stop <-chan struct{}) RunOption {
	return func(o *runOptions) { o.stop = stop }
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// setHeaders sets the headers of a request: Config.Header, then the
// request's own headers, which win, then the User-Agent unless one of them
// set a non-empty one.
func (c *Client) setHeaders(dst, own http.Header) {
	for k, vs := range c.cfg.Header {
		dst[k] = vs
	}
	for k, vs := range own {
		dst[k] = vs
	}
	if dst.Get("User-Agent") == "" {
		dst.Set("User-Agent", c.cfg.UserAgent)
	}
}

// do fetches one prepared request, with retries, and returns its Record.
// With final set, the last attempt's outcome is stored there when the
// record is that attempt's (not when the input was stopped).
func (c *Client) do(ctx context.Context, p prepared, stop <-chan struct{}, final *outcome) (rec Record) {
	return c.doShared(ctx, p, stop, nil, final)
}

// doShared is do, its attempts' contexts taken from shared when not nil
// (Run's inputs, without a Deadline of their own).
func (c *Client) doShared(ctx context.Context, p prepared, stop <-chan struct{}, shared *sharedContexts, final *outcome) (rec Record) {
	rec = Record{Line: p.req.Line, URL: p.req.URL, Method: p.req.Method, Input: p.req.Keep, host: p.host}
	if p.err != nil {
		rec.Error = &Error{Kind: inputKind(p.err), Message: redact.Text(p.err.Error())}
		return rec
	}
	start := time.Now()
	defer func() { rec.MS = float64(time.Since(start).Microseconds()) / 1000 }()
	if c.cfg.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.cfg.Deadline, errDeadline)
		defer cancel()
		shared = nil // the input's own context is every attempt's parent
	}
	h := c.acquire(p.host)
	defer c.release(p.host, h)
	if err := c.takeSlots(ctx, stop, h); err != nil {
		rec.Error = c.stopError(ctx, err)
		return rec
	}
	defer c.freeSlots(h)
	var last outcome // the previous attempt's
	for attempt := 1; ; attempt++ {
		probe, err := c.wait(ctx, stop, h)
		if err == nil && stopped(stop) {
			if probe {
				c.endProbe(h)
			}
			err = errStopped
		}
		if err != nil {
			if attempt > 1 {
				last.fill(&rec) // the last status stays; the error says why it stopped
			}
			rec.Error = c.stopError(ctx, err)
			return rec
		}
		out := c.attempt(ctx, p, shared)
		rec.Attempts = attempt
		c.observe(h, out, probe)
		wait, retry := c.retryable(p.req.Method, out, attempt)
		if !retry {
			out.fill(&rec)
			if final != nil {
				*final = out
			}
			return rec
		}
		if deadline, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(deadline) {
			// The next attempt could not start before the deadline: stop
			// with this attempt's outcome rather than sleep into it.
			out.fill(&rec)
			if final != nil {
				*final = out
			}
			return rec
		}
		rec.Retries = append(rec.Retries, Attempt{Status: out.status, Error: out.error(), WaitMS: float64(wait.Milliseconds())})
		c.waitingRetry.Add(1)
		err = pause(ctx, stop, wait)
		c.waitingRetry.Add(-1)
		if err != nil {
			out.fill(&rec)
			rec.Error = c.stopError(ctx, err)
			return rec
		}
		last = out
	}
}

// errStopped ends an input that had not sent its request (or its next
// retry) when the run was told to stop starting requests.
var errStopped = errors.New("the run was stopped before this request was sent")

// errRateDeadline is a rate limit's wait that would end past the input's
// deadline.
var errRateDeadline = errors.New("the rate limit would hold the request past the input's deadline")

// stopError is the error of an input stopped while it waited.
func (c *Client) stopError(ctx context.Context, err error) *Error {
	if errors.Is(err, errStopped) {
		return &Error{Kind: KindCanceled, Message: err.Error()}
	}
	if isDeadline(ctx) {
		return &Error{Kind: KindDeadline, Message: c.contextMessage(ctx, nil)}
	}
	var circuit *circuitError
	if errors.As(err, &circuit) {
		return &Error{Kind: KindCircuitOpen, Message: err.Error()}
	}
	if ctx.Err() == nil {
		// A rate limiter refuses to wait past the deadline before it passes.
		return &Error{Kind: KindDeadline, Message: err.Error()}
	}
	return &Error{Kind: KindCanceled, Message: c.contextMessage(ctx, nil)}
}

// locationChecker is the client's transport, checking that the Location
// of a redirect net/http will follow parses: net/http reports one that
// does not only as a message, after the round trip. Here it is a
// responseError (bad_response), as it is whether or not redirects are
// followed (net/http parses the Location before asking whether to follow
// it).
type locationChecker struct{ rt http.RoundTripper }

func (t locationChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		loc := resp.Header.Get("Location")
		if loc == "" {
			break
		}
		if _, err := req.URL.Parse(loc); err != nil {
			resp.Body.Close()
			return nil, &responseError{fmt.Sprintf("redirect to a Location that does not parse: %q", redact.Text(loc))}
		}
	}
	return resp, nil
}
