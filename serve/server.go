package serve

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/flow"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Options are what a Server is given beyond its gateway.
type Options struct {
	// Log receives an access log record per request (JSON with
	// log/slog's JSONHandler); nil for none.
	Log *slog.Logger
	// Metrics counts the requests and upstream calls; nil for none. It
	// outlives a Server: a reloaded gateway's server counts on.
	Metrics *Metrics
}

// A Server answers a gateway's routes: each runs its flow, with the
// gateway's limits, and reaches only the gateway's upstreams. It also
// answers GET /healthz (the process is up) and GET /readyz (the server
// takes requests; 503 once Drain was called). Make it with New; Close it
// when it no longer serves.
type Server struct {
	g        *Gateway
	client   *fetch.Client
	mux      *http.ServeMux
	opts     Options
	limiters *lru.Cache[string, *rate.Limiter]
	draining atomic.Bool
}

// maxClients bounds the per-client rate limiters kept (a key is a hash:
// 32 bytes whatever the client sends): the least recently seen clients'
// are dropped, and start afresh.
const maxClients = 100_000

// MaxItems bounds a for_each of a gateway's flow: a request cannot make
// more upstream calls than its items (a list from its own body or query).
const MaxItems = 1000

// New returns a server for g: one HTTP engine (with g's upstreams as its
// only allowed hosts, and g's limits), one flow engine and handler per
// route.
func New(g *Gateway, opts Options) (*Server, error) {
	longest := DefaultTimeout
	for _, r := range g.Routes {
		longest = max(longest, r.Timeout)
	}
	cfg := fetch.Config{
		Concurrency:   65536,
		MaxBody:       g.Limits.MaxResponseBody,
		Retries:       -1,
		BreakAfter:    g.Limits.BreakAfter,
		BreakCooldown: g.Limits.BreakCooldown,
		AllowHosts:    g.Upstreams,
		Body:          fetch.BodyHash,
		// An upstream call is bounded by its route's timeout, not by
		// the engine's own defaults (30 s to the headers): the attempt
		// timeout is the longest route's, and the headers' longer still,
		// so that none is set (no timer per call: see
		// fetch.Config.HeaderTimeout).
		HeaderTimeout:  2 * longest,
		AttemptTimeout: longest,
	}
	if g.Limits.Retries > 0 {
		cfg.Retries = g.Limits.Retries
	}
	client, err := fetch.New(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{g: g, client: client, mux: http.NewServeMux(), opts: opts}
	if g.Limits.Rate > 0 {
		s.limiters, _ = lru.New[string, *rate.Limiter](maxClients)
	}
	for _, r := range g.Routes {
		ecfg := flow.Config{Client: client, Readers: ResponseReaders(r.Response), MaxItems: MaxItems}
		if opts.Metrics != nil {
			ecfg.OnHTTP = opts.Metrics.countUpstream
		}
		e, err := flow.NewEngine(r.Flow, ecfg)
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("route %s %s: %w", r.Method, r.Path, err)
		}
		name := r.Method + " " + r.Path
		h, err := NewHandler(e, HandlerConfig{
			Params: r.Params, Timeout: r.Timeout, Concurrency: r.Concurrency,
			MaxRequestBody: g.Limits.MaxRequestBody, Response: r.Response,
			Done: func(req *http.Request, status int, res *flow.Result) { s.done(name, req, status, res) },
		})
		if err != nil {
			client.Close()
			return nil, fmt.Errorf("route %s: %w", name, err)
		}
		s.mux.Handle(name, s.counted(name, h))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "draining")
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return s, nil
}

// Gateway returns the server's gateway.
func (s *Server) Gateway() *Gateway { return s.g }

// Drain makes /readyz answer 503: the server is about to stop.
func (s *Server) Drain() { s.draining.Store(true) }

// Close releases the server's idle upstream connections. Requests in
// flight go on.
func (s *Server) Close() { s.client.Close() }

// ServeHTTP answers a request: the client's rate limit, then its route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = r.WithContext(context.WithValue(r.Context(), startKey{}, time.Now()))
	if s.limiters != nil && !strings.HasPrefix(r.URL.Path, "/healthz") && !strings.HasPrefix(r.URL.Path, "/readyz") {
		if !s.allow(r) {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, map[string]any{"message": "too many requests from this client: try again later"})
			s.done("", r, http.StatusTooManyRequests, nil)
			return
		}
	}
	if h, pattern := s.mux.Handler(r); pattern == "" && !isMethodNotAllowed(h, r) {
		writeError(w, http.StatusNotFound, map[string]any{"message": fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path)})
		s.done("", r, http.StatusNotFound, nil)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// allow takes a token of the client's rate limiters: its address's (an
// IPv6 client's /64, which one client holds whole), and with rate_key its
// key's too, so that sending a new key on each request gains nothing.
func (s *Server) allow(r *http.Request) bool {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if addr, err := netip.ParseAddr(host); err == nil && addr.Is6() && !addr.Is4In6() {
		if p, err := addr.Prefix(64); err == nil {
			host = p.String()
		}
	}
	if !s.take("ip:" + host) {
		return false
	}
	if s.g.Limits.RateKey != "" {
		if key := r.Header.Get(s.g.Limits.RateKey); key != "" {
			sum := sha256.Sum256([]byte(key))
			return s.take("key:" + string(sum[:16]))
		}
	}
	return true
}

// take takes a token of the limiter of key.
func (s *Server) take(key string) bool {
	l, ok := s.limiters.Get(key)
	if !ok {
		burst := s.g.Limits.Burst
		if burst < 1 {
			burst = max(1, int(s.g.Limits.Rate))
		}
		l = rate.NewLimiter(rate.Limit(s.g.Limits.Rate), burst)
		s.limiters.Add(key, l)
	}
	return l.Allow()
}

// isMethodNotAllowed reports whether the mux's handler for r answers 405
// (a path some route has, with another method): ServeMux writes it, with
// Allow.
func isMethodNotAllowed(h http.Handler, r *http.Request) bool {
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	return rec.status == http.StatusMethodNotAllowed
}

// statusRecorder records the status a handler writes, and drops the rest.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }

// counted counts a route's requests in flight.
func (s *Server) counted(route string, h http.Handler) http.Handler {
	if s.opts.Metrics == nil {
		return h
	}
	g := s.opts.Metrics.inFlight.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.Inc()
		defer g.Dec()
		h.ServeHTTP(w, r)
	})
}

// done counts and logs an answered request.
func (s *Server) done(route string, r *http.Request, status int, res *flow.Result) {
	var ms float64
	if start, ok := r.Context().Value(startKey{}).(time.Time); ok {
		ms = float64(time.Since(start).Microseconds()) / 1000
	}
	if m := s.opts.Metrics; m != nil && route != "" {
		m.count(route, status, ms/1000)
	}
	if s.opts.Log != nil {
		attrs := []any{"method", r.Method, "path", r.URL.Path, "route", route, "status", status, "ms", ms, "client", r.RemoteAddr}
		if res != nil && res.Err != nil {
			attrs = append(attrs, "failed_step", res.Err.Step, "error_kind", res.Err.Kind, "error", res.Err.Message)
		}
		s.opts.Log.Info("request", attrs...)
	}
}

// startKey keys a request's start time in its context.
type startKey struct{}

// Metrics are a gateway's Prometheus metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	upstream *prometheus.CounterVec
	inFlight *prometheus.GaugeVec
	// children caches the series of the labels met (a route and a status,
	// a route, a host and an outcome): a lookup in a Vec hashes its
	// labels on every request. The labels are bounded (routes of the
	// gateway, statuses, allowed hosts and error kinds).
	children sync.Map
}

type requestLabels struct {
	route  string
	status int
}

type upstreamLabels struct{ host, outcome string }

type latencyLabel string

// count counts an answered request of route.
func (m *Metrics) count(route string, status int, seconds float64) {
	c, ok := m.children.Load(requestLabels{route, status})
	if !ok {
		c, _ = m.children.LoadOrStore(requestLabels{route, status}, m.requests.WithLabelValues(route, strconv.Itoa(status)))
	}
	c.(prometheus.Counter).Inc()
	o, ok := m.children.Load(latencyLabel(route))
	if !ok {
		o, _ = m.children.LoadOrStore(latencyLabel(route), m.latency.WithLabelValues(route))
	}
	o.(prometheus.Observer).Observe(seconds)
}

// NewMetrics registers a gateway's metrics with reg:
//
//	gather_serve_requests_total{route,status}
//	gather_serve_request_duration_seconds{route}   (histogram)
//	gather_serve_upstream_calls_total{host,outcome} (outcome: ok or the error kind)
//	gather_serve_in_flight{route}
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gather_serve_requests_total", Help: "Requests answered, by route and status."}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gather_serve_request_duration_seconds", Help: "Time to answer a request, by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"route"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gather_serve_upstream_calls_total", Help: "Upstream calls by host and outcome (ok, or the error kind)."}, []string{"host", "outcome"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gather_serve_in_flight", Help: "Requests in flight, by route."}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency, m.upstream, m.inFlight)
	return m
}

// countUpstream counts an upstream call. A call refused before it was
// sent (a host outside the upstreams, a URL that does not parse) is
// counted under the host "refused": its host comes from a client, and
// would make a new series of each.
func (m *Metrics) countUpstream(rec fetch.Record) {
	outcome, host := "ok", rec.Host()
	if rec.Error != nil {
		outcome = string(rec.Error.Kind)
		if rec.Error.Kind == fetch.KindForbiddenHost || rec.Error.Kind == fetch.KindBadInput {
			host = "refused"
		}
	}
	c, ok := m.children.Load(upstreamLabels{host, outcome})
	if !ok {
		c, _ = m.children.LoadOrStore(upstreamLabels{host, outcome}, m.upstream.WithLabelValues(host, outcome))
	}
	c.(prometheus.Counter).Inc()
}
