// Package fetch is gather's HTTP engine: it turns a stream of requests into
// a stream of Records, one per input, with bounded concurrency overall and
// per host, rate limits, retries with back-off, separate timeouts, a body
// policy and a maximum body size.
//
// Design choices:
//
//   - One http.Transport, tuned for the limits in force: idle connections
//     per host at least the per-host limit (Go's default of 2 makes a
//     high-concurrency client open and close connections until ephemeral
//     ports run out), HTTP/1.1 by default (HTTP2 turns HTTP/2 on, with
//     several connections per host once one's stream limit is reached).
//   - Scheduling is gather.Map with a per-host limit: a host at its limit
//     does not hold global slots, so other hosts keep flowing, and inputs are
//     read ahead only as far as the read-ahead bound.
//   - Each timeout is its own mechanism (dialer, TLS handshake, response
//     headers, a context per attempt, a context per input), so a Record says
//     which one fired.
//   - Every input yields exactly one Record; errors are data, never a reason
//     to stop the run.
package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogather/gather"
	"github.com/gogather/gather/internal/redact"
	"golang.org/x/time/rate"
)

// Config is the engine's configuration. The zero value of a field means its
// documented default.
type Config struct {
	Concurrency int     // requests in flight in all; default 64
	PerHost     int     // requests in flight per scheme://host:port; 0 = no limit beyond Concurrency
	ReadAhead   int     // inputs read ahead to interleave hosts, with PerHost; default 4 x Concurrency
	Rate        float64 // requests per second in all (attempts, retries included); 0 = unlimited
	PerHostRate float64 // requests per second per host; 0 = unlimited

	Retries      int           // retries after the first attempt; default 2; -1 for none
	RetryBase    time.Duration // first back-off; default 200ms, doubled each retry, with jitter
	RetryMax     time.Duration // back-off cap; default 10s
	RetryUnsafe  bool          // also retry non-idempotent methods (POST, PATCH) after a response or a reset
	MaxRetryWait time.Duration // longest Retry-After honoured; longer ones end the retries; default 60s
	BreakAfter   int           // consecutive connection failures that trip a host's circuit; default 0 = never

	ConnectTimeout time.Duration // TCP connect; default 10s
	TLSTimeout     time.Duration // TLS handshake; default 10s
	HeaderTimeout  time.Duration // from request sent to response headers; default 30s
	AttemptTimeout time.Duration // one attempt, body included; default 60s
	Deadline       time.Duration // one input, retries and back-off included; default 0 = none

	MaxBody      int64      // largest body read, after decoding; default 10 MiB
	Body         BodyPolicy // what to keep of each body; default BodyHash
	BodyHead     int        // with BodyHead: bytes kept; default 1024
	BodyDir      string     // with BodyDir: the directory bodies are saved to
	MaxRedirects int        // redirects followed; default 10; -1 for none

	Header    http.Header // added to every request
	UserAgent string      // default "gather/0"
	// HTTP2 negotiates HTTP/2 with servers that offer it. A connection
	// carries at most the server's limit of concurrent streams; past it the
	// client opens another connection to the host rather than queueing
	// (net/http's default, kept: HTTP2Config.StrictMaxConcurrentRequests is
	// false), so a stream limit does not serialise a bulk run.
	HTTP2 bool
	// TLS is the TLS configuration (root CAs, client certificates,
	// InsecureSkipVerify); nil means the system roots. It is cloned.
	TLS *tls.Config

	Ordered bool // yield records in input order, through a window of 4 x Concurrency
}

// BodyPolicy says what a Record keeps of a response body.
type BodyPolicy string

// The body policies.
const (
	BodyHash   BodyPolicy = "hash"   // read, count and hash the body; keep nothing
	BodyText   BodyPolicy = "text"   // keep the body: JSON bodies as JSON, others as a string
	BodyBase64 BodyPolicy = "base64" // keep the body as a base64 string
	BodyHead   BodyPolicy = "head"   // keep the first BodyHead bytes as a string
	BodyDir    BodyPolicy = "dir"    // save each body to a file in BodyDir
)

func (c *Config) setDefaults() error {
	def := func(p *time.Duration, d time.Duration) {
		if *p == 0 {
			*p = d
		}
	}
	if c.Concurrency == 0 {
		c.Concurrency = 64
	}
	if c.Concurrency < 1 {
		return fmt.Errorf("concurrency must be at least 1, got %d", c.Concurrency)
	}
	if c.PerHost < 0 || c.ReadAhead < 0 || c.Rate < 0 || c.PerHostRate < 0 || c.BreakAfter < 0 || c.MaxBody < 0 || c.BodyHead < 0 {
		return errors.New("per-host limit, read-ahead, rates, break-after, max-body and body-head must not be negative")
	}
	if c.PerHost > c.Concurrency {
		c.PerHost = c.Concurrency
	}
	if c.ReadAhead == 0 {
		c.ReadAhead = 4 * c.Concurrency
	}
	if c.ReadAhead < c.Concurrency {
		return fmt.Errorf("read-ahead %d is less than the concurrency %d", c.ReadAhead, c.Concurrency)
	}
	switch {
	case c.Retries == 0:
		c.Retries = 2
	case c.Retries < 0:
		c.Retries = 0
	}
	def(&c.RetryBase, 200*time.Millisecond)
	def(&c.RetryMax, 10*time.Second)
	def(&c.MaxRetryWait, 60*time.Second)
	def(&c.ConnectTimeout, 10*time.Second)
	def(&c.TLSTimeout, 10*time.Second)
	def(&c.HeaderTimeout, 30*time.Second)
	def(&c.AttemptTimeout, 60*time.Second)
	if c.MaxBody == 0 {
		c.MaxBody = 10 << 20
	}
	switch c.Body {
	case "":
		c.Body = BodyHash
	case BodyHash, BodyText, BodyBase64:
	case BodyHead:
		if c.BodyHead == 0 {
			c.BodyHead = 1024
		}
	case BodyDir:
		if c.BodyDir == "" {
			return errors.New("the dir body policy needs a directory")
		}
	default:
		return fmt.Errorf("unknown body policy %q (want hash, text, base64, head or dir)", c.Body)
	}
	switch {
	case c.MaxRedirects == 0:
		c.MaxRedirects = 10
	case c.MaxRedirects < 0:
		c.MaxRedirects = 0
	}
	if c.UserAgent == "" {
		c.UserAgent = "gather/0"
	}
	if err := checkHeader(c.Header); err != nil {
		return err
	}
	return nil
}

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

// A Client runs requests. It is safe for concurrent use; Close it when done.
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

	mu    sync.Mutex
	hosts map[string]*hostState

	// The counters of Load.
	onWire, waitingSlot, waitingRate, waitingRetry atomic.Int64
}

// Load is a snapshot of what a Client is doing, for a progress display.
// Under Run, OnWire + WaitingRate + WaitingRetry is at most the
// Concurrency: an input holds a slot while it waits for a rate or a
// retry. Calls of Do outside Run are counted too.
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

// hostState is what the client knows of one host during a run. It is kept
// for the client's life: about 200 bytes per distinct host.
type hostState struct {
	mu          sync.Mutex
	rate        *rate.Limiter // nil when unlimited
	pausedUntil time.Time     // Retry-After applies to the whole host
	failures    int           // consecutive connection-level failures
	open        bool          // the circuit is open: inputs fail fast
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
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	res := newResolver(cfg.ConnectTimeout)
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           res.dialContext(dialer.DialContext),
		TLSHandshakeTimeout:   cfg.TLSTimeout,
		ResponseHeaderTimeout: cfg.HeaderTimeout,
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
	c := &Client{cfg: cfg, transport: tr, resolver: res, hosts: make(map[string]*hostState)}
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
// request starts and the ones in flight end with a canceled record.
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
		prepare := func(yield func(prepared) bool) {
			for r := range reqs {
				waiting.Add(1)
				c.waitingSlot.Add(1)
				if !yield(c.prepare(r)) {
					return
				}
			}
		}
		do := func(ctx context.Context, p prepared) (rec Record, _ error) {
			unwait()
			defer func() {
				// An engine bug on one input is that input's record; the run goes on.
				if r := recover(); r != nil {
					rec = Record{Line: p.req.Line, URL: p.req.URL, Method: p.req.Method, Input: p.req.Keep,
						Error: &Error{Kind: KindOther, Message: redact.Text(fmt.Sprintf("internal error: %v", r))}}
				}
			}()
			return c.do(ctx, p, ro.stop), nil
		}
		results := gather.Map(ctx, prepare, c.cfg.Concurrency, do, opts...)
		if c.cfg.PerHost > 0 {
			results = gather.MapKeyed(ctx, prepare, c.cfg.Concurrency, gather.PerKey(c.cfg.PerHost, func(p prepared) string { return p.host }), do, opts...)
		}
		for r := range results {
			rec := r.Value
			if r.Err != nil { // a panic, or cancelled while waiting for its host's slot
				unwait()
				rec = Record{Line: r.Input.req.Line, URL: r.Input.req.URL, Method: r.Input.req.Method, Input: r.Input.req.Keep,
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

// Do fetches one request, with retries, and returns its Record.
func (c *Client) Do(ctx context.Context, req Request) Record {
	return c.do(ctx, c.prepare(req), nil)
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

// prepared is a request checked and parsed once, before it is scheduled.
type prepared struct {
	req    Request
	url    *url.URL
	rawURL string // the URL as given, trimmed: what url was parsed from
	// canonical is url.String(): the URL as net/http sends it, a record's
	// final_url when there was no redirect and it differs from the input.
	canonical string
	host      string // scheme://host:port, the per-host key
	err       error
}

func (c *Client) prepare(req Request) prepared {
	p := prepared{req: req}
	if p.req.Method == "" {
		p.req.Method = http.MethodGet
	}
	if req.Err != nil {
		p.err = req.Err
		return p
	}
	raw := strings.TrimSpace(req.URL)
	if err := checkMethod(p.req.Method); err != nil {
		p.err = err
		return p
	}
	if err := checkHeader(req.Header); err != nil {
		p.err = err
		return p
	}
	if !strings.Contains(raw, "://") {
		p.err = fmt.Errorf("URL %q: missing http:// or https://", raw)
		if strings.Contains(raw, "@") { // a password, maybe, that redact.Text cannot find without "://"
			p.err = errors.New("URL: missing http:// or https://")
		}
		return p
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.err = err
	case u.Scheme != "http" && u.Scheme != "https":
		p.err = fmt.Errorf("URL %q: scheme must be http or https", req.URL)
	case u.Host == "":
		p.err = fmt.Errorf("URL %q has no host", req.URL)
	case !validPort(u.Port()):
		p.err = fmt.Errorf("URL %q: port %q is not between 1 and 65535", req.URL, u.Port())
	default:
		if err := checkHost(u); err != nil {
			p.err = err
			break
		}
		p.url, p.rawURL, p.canonical = u, raw, raw
		encoded := encodeURL(u)
		if strings.HasSuffix(u.Host, ":") {
			u.Host = strings.TrimSuffix(u.Host, ":") // "h:" is sent as "h", as NewRequest does
			p.canonical = u.String()
		} else if encoded || !roundTrips(raw) {
			p.canonical = u.String()
		}
		p.host = hostKey(u)
	}
	return p
}

// hostKey returns scheme://host:port for an http or https URL, the port
// filled in from the scheme when absent, as net.JoinHostPort writes it.
func hostKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	host := u.Hostname()
	if strings.IndexByte(host, ':') >= 0 {
		return u.Scheme + "://[" + host + "]:" + port
	}
	return u.Scheme + "://" + host + ":" + port
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

// roundTrips reports, cheaply, that an http or https URL's url.String() is
// the URL itself: it holds only letters, digits and punctuation that
// net/url leaves as written (no '%', '@' or '#', whose escaping it may
// normalise). It may say false for a URL that does round-trip.
func roundTrips(raw string) bool {
	if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
		return false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/?&=+,;!$'()*[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validPort reports whether port is empty (the scheme's default) or a
// number from 1 to 65535.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

func (c *Client) host(key string) *hostState {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[key]
	if h == nil {
		h = &hostState{}
		if c.cfg.PerHostRate > 0 {
			h.rate = rate.NewLimiter(rate.Limit(c.cfg.PerHostRate), 1)
		}
		c.hosts[key] = h
	}
	return h
}

func (c *Client) do(ctx context.Context, p prepared, stop <-chan struct{}) (rec Record) {
	rec = Record{Line: p.req.Line, URL: p.req.URL, Method: p.req.Method, Input: p.req.Keep}
	if p.err != nil {
		rec.Error = &Error{Kind: KindBadInput, Message: redact.Text(p.err.Error())}
		return rec
	}
	start := time.Now()
	defer func() { rec.MS = float64(time.Since(start).Microseconds()) / 1000 }()
	if c.cfg.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.cfg.Deadline, errDeadline)
		defer cancel()
	}
	h := c.host(p.host)
	var last outcome // the previous attempt's
	for attempt := 1; ; attempt++ {
		err := c.wait(ctx, stop, h)
		if err == nil && stopped(stop) {
			err = errStopped
		}
		if err != nil {
			if attempt > 1 {
				last.fill(&rec) // the last status stays; the error says why it stopped
			}
			rec.Error = c.stopError(ctx, err)
			return rec
		}
		out := c.attempt(ctx, p)
		rec.Attempts = attempt
		c.observe(h, out)
		wait, retry := c.retryable(p.req.Method, out, attempt)
		if !retry {
			out.fill(&rec)
			return rec
		}
		if deadline, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(deadline) {
			// The next attempt could not start before the deadline: stop
			// with this attempt's outcome rather than sleep into it.
			out.fill(&rec)
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
	if cause := context.Cause(ctx); errors.Is(cause, errDeadline) || errors.Is(cause, context.DeadlineExceeded) {
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

type circuitError struct{ failures int }

func (e *circuitError) Error() string {
	return fmt.Sprintf("host paused after %d consecutive connection failures", e.failures)
}

// wait blocks until the host may be sent a request: its circuit is closed,
// any Retry-After pause is over and the rate limits allow it. It returns
// early when ctx ends or stop closes.
func (c *Client) wait(ctx context.Context, stop <-chan struct{}, h *hostState) error {
	h.mu.Lock()
	open, failures, until := h.open, h.failures, h.pausedUntil
	h.mu.Unlock()
	if open {
		return &circuitError{failures}
	}
	if d := time.Until(until); d > 0 {
		c.waitingRate.Add(1)
		err := pause(ctx, stop, d)
		c.waitingRate.Add(-1)
		if err != nil {
			return err
		}
	}
	for _, lim := range [...]*rate.Limiter{c.rate, h.rate} {
		if lim == nil {
			continue
		}
		r := lim.Reserve()
		d := r.Delay()
		if deadline, ok := ctx.Deadline(); ok && time.Now().Add(d).After(deadline) {
			r.Cancel()
			return errRateDeadline
		}
		if d > 0 {
			c.waitingRate.Add(1)
		}
		err := pause(ctx, stop, d)
		if d > 0 {
			c.waitingRate.Add(-1)
		}
		if err != nil {
			r.Cancel()
			return err
		}
	}
	return nil
}

// observe updates the host's state with an attempt's outcome.
func (c *Client) observe(h *hostState, out outcome) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case out.noFiles:
		// The process's fault: the host's count of failures stands.
	case out.kind == KindConnect, out.kind == KindTimeoutConnect, out.kind == KindDNS:
		h.failures++
		if c.cfg.BreakAfter > 0 && h.failures >= c.cfg.BreakAfter {
			h.open = true
		}
	default:
		h.failures = 0
	}
	if out.retryAfter > 0 && out.retryAfter <= c.cfg.MaxRetryWait {
		if until := time.Now().Add(out.retryAfter); until.After(h.pausedUntil) {
			h.pausedUntil = until
		}
	}
}

// retryable says whether to retry after an attempt, and after how long.
func (c *Client) retryable(method string, out outcome, attempt int) (time.Duration, bool) {
	if attempt > c.cfg.Retries {
		return 0, false
	}
	switch {
	case out.noFiles:
		// Out of file descriptors, nothing sent: after the back-off,
		// requests in flight will have freed some.
	case out.kind == KindDNS, out.kind == KindConnect, out.kind == KindTimeoutConnect:
		// Nothing was sent: safe for every method.
	case out.kind == KindReset, out.kind == KindTimeoutHeaders, out.kind == KindTimeoutTotal, out.kind == KindTimeoutTLS:
		if !idempotent(method) && !c.cfg.RetryUnsafe {
			return 0, false
		}
	case out.kind == "":
		switch out.status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return 0, false
		}
		if !idempotent(method) && !c.cfg.RetryUnsafe && out.status != http.StatusTooManyRequests {
			return 0, false
		}
	default:
		return 0, false
	}
	if out.retryAfter > c.cfg.MaxRetryWait {
		return 0, false
	}
	backoff := c.cfg.RetryBase << (attempt - 1)
	if backoff > c.cfg.RetryMax || backoff <= 0 {
		backoff = c.cfg.RetryMax
	}
	// Jitter: a uniform wait in [backoff/2, backoff], so retries of many
	// inputs do not arrive in lockstep.
	backoff = backoff/2 + rand.N(backoff/2+1)
	return max(backoff, out.retryAfter), true
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// pause waits d, and returns early with the context's cause when ctx ends
// or with errStopped when stop closes.
func pause(ctx context.Context, stop <-chan struct{}, d time.Duration) error {
	if d <= 0 {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-stop:
		return errStopped
	}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP-date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// newBodyReader returns a reader of b, or a nil io.Reader (not a nil
// *bytes.Reader) when there is no body.
func newBodyReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
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
