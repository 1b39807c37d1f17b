package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Config holds server-wide defaults; every knob can also be set per request
// by a query parameter, which wins. The zero Config answers "ok <path>\n" at
// once to every request.
type Config struct {
	// Latency is added before the response headers (query: latency).
	Latency time.Duration
	// LatencyJitter adds a uniform random extra in [0, LatencyJitter) to
	// the latency (query: jitter).
	LatencyJitter time.Duration
	// BodySize is the body length in bytes when the request does not set
	// one (query: size). 0 means a short text body, "ok <path>\n".
	BodySize int
	// FailRate is the probability in [0, 1] of answering FailStatus to a
	// request that asks for no failure of its own (query: fail).
	FailRate float64
	// FailStatus is the status of failures; 0 means 503 (query: status,
	// with fail or fail_first).
	FailStatus int
	// RetryAfter is the Retry-After header value, in seconds or an
	// HTTP-date, sent with every response of status 400 or more; empty
	// means none (query: retry_after).
	RetryAfter string
	// Seed seeds the random choices (jitter, fail rates); 0 means a fixed
	// default, so runs are reproducible.
	Seed uint64
}

// defaultSeed replaces a zero Config.Seed.
const defaultSeed = 0x5eed_ca11_ab1e_f00d

// closeGrace is how long Close lets responses in progress finish before
// it closes their connections.
const closeGrace = 250 * time.Millisecond

// readHeaderTimeout bounds how long a connection may take to send a
// request's headers.
const readHeaderTimeout = 10 * time.Second

// idleTimeout closes keep-alive connections left idle this long.
const idleTimeout = 2 * time.Minute

// errClosed is the error of a wait cut short by Close.
var errClosed = errors.New("upstream: server closed")

// Server is a running upstream server. Its methods are safe for concurrent
// use.
type Server struct {
	cfg  Config
	ln   net.Listener
	srv  *http.Server
	addr string
	url  string

	// shutdown is closed by Close; every wait selects on it.
	shutdown chan struct{}
	// serveDone is closed when Serve has returned, with serveErr set.
	serveDone chan struct{}
	serveErr  error
	closeOnce sync.Once
	closeErr  error

	// gate admits handlers until Close; handlers tracks the admitted
	// ones so that Close can wait for them, hijacked connections included.
	gate     sync.RWMutex
	closing  bool
	handlers sync.WaitGroup

	requests atomic.Int64
	inFlight atomic.Int64
	paths    atomic.Pointer[table[atomic.Int64]]
	hosts    table[gauge]
	draws    atomic.Uint64

	demo demoState // the demo API's summaries
}

// Start starts a server on 127.0.0.1 at a port chosen by the system.
func Start(cfg Config) (*Server, error) {
	return StartOn("127.0.0.1:0", cfg)
}

// StartOn starts a server listening on addr, for example "127.0.0.1:8080",
// or ":8080" for every interface. The listen backlog is the system's
// maximum, as net.Listen sets it.
func StartOn(addr string, cfg Config) (*Server, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.FailStatus == 0 {
		cfg.FailStatus = http.StatusServiceUnavailable
	}
	if cfg.Seed == 0 {
		cfg.Seed = defaultSeed
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		ln:        ln,
		addr:      ln.Addr().String(),
		shutdown:  make(chan struct{}),
		serveDone: make(chan struct{}),
	}
	s.url = "http://" + dialAddr(ln.Addr())
	s.paths.Store(new(table[atomic.Int64]))
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
	}
	go func() {
		defer close(s.serveDone)
		s.serveErr = s.srv.Serve(ln)
	}()
	return s, nil
}

// dialAddr is the address a client on this machine dials to reach a
// listener: the listener's own, with a loopback IP in place of an
// unspecified one (":8080" listens on every interface).
func dialAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(ta.Port))
}

// check reports the first invalid field of c.
func (c Config) check() error {
	switch {
	case c.Latency < 0:
		return fmt.Errorf("upstream: negative Latency %v", c.Latency)
	case c.LatencyJitter < 0:
		return fmt.Errorf("upstream: negative LatencyJitter %v", c.LatencyJitter)
	case c.BodySize < 0:
		return fmt.Errorf("upstream: negative BodySize %d", c.BodySize)
	case !(c.FailRate >= 0 && c.FailRate <= 1):
		return fmt.Errorf("upstream: FailRate %v not in [0, 1]", c.FailRate)
	case c.FailStatus != 0 && (c.FailStatus < 200 || c.FailStatus > 599):
		return fmt.Errorf("upstream: FailStatus %d not in [200, 599]", c.FailStatus)
	}
	if c.RetryAfter != "" {
		if err := checkRetryAfter(c.RetryAfter); err != nil {
			return fmt.Errorf("upstream: RetryAfter: %w", err)
		}
	}
	return nil
}

// URL returns the server's base URL, "http://127.0.0.1:port", without a
// trailing slash.
func (s *Server) URL() string { return s.url }

// Addr returns the address the server listens on, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// Close stops the server: it stops accepting, releases every wait in
// progress (latency, chunk delays, hang), gives responses in progress a
// short grace to finish, closes every connection and returns once every
// handler has returned. It leaves no goroutine behind. Calling it again
// returns the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.gate.Lock()
		s.closing = true
		close(s.shutdown)
		s.gate.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		err := s.srv.Shutdown(ctx)
		cancel()
		if err != nil {
			// Grace over (a slow reader, or a connection that never sent a
			// request): cut what is left.
			s.srv.Close()
		}
		<-s.serveDone
		s.handlers.Wait()
		if s.serveErr != nil && !errors.Is(s.serveErr, http.ErrServerClosed) {
			s.closeErr = fmt.Errorf("upstream: %w", s.serveErr)
		}
	})
	return s.closeErr
}

// enter admits a handler unless the server is closing; an admitted
// handler must call s.handlers.Done.
func (s *Server) enter() bool {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closing {
		return false
	}
	s.handlers.Add(1)
	return true
}

// sleep waits for d, the end of ctx or Close, whichever comes first, and
// returns ctx's error or errClosed if it did not wait the full d.
func (s *Server) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.shutdown:
		return errClosed
	}
}

// float returns the next pseudo-random number in [0, 1) of the server's
// sequence: draw n is a SplitMix64 hash of the seed and n, so no lock is
// needed and a sequential run is reproducible.
func (s *Server) float() float64 {
	z := mix64(s.cfg.Seed + s.draws.Add(1)*0x9e3779b97f4a7c15)
	return float64(z>>11) / (1 << 53)
}
