package fetch

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"
)

// Config is the engine's configuration. The zero value of a field means its
// documented default.
type Config struct {
	Concurrency int     // requests in flight in all, for every call on the client; default 64
	PerHost     int     // requests in flight per host (scheme://host:port), for every call; 0 = no limit beyond Concurrency
	ReadAhead   int     // inputs read ahead to interleave hosts, with PerHost; default 4 x Concurrency
	Rate        float64 // requests per second in all (attempts, retries included); 0 = unlimited
	PerHostRate float64 // requests per second per host; 0 = unlimited

	Retries      int           // retries after the first attempt; default 2; -1 for none
	RetryBase    time.Duration // first back-off; default 200ms, doubled each retry, with jitter
	RetryMax     time.Duration // back-off cap; default 10s
	RetryUnsafe  bool          // also retry non-idempotent methods (POST, PATCH) after a response or a reset
	MaxRetryWait time.Duration // longest Retry-After honoured; longer ones end the retries; default 60s
	// BreakAfter is the number of connection failures in a row (refused,
	// connect timeout, DNS), each within BreakCooldown of the previous
	// one, that trip a host's circuit: its requests then fail at once
	// (circuit_open) for BreakCooldown. After it the circuit is half-open:
	// one request goes through as a probe while the others still fail at
	// once; if the probe gets an answer from the host the circuit closes,
	// if it fails to connect the circuit opens for another BreakCooldown.
	// Default 0: never trip.
	BreakAfter int
	// BreakCooldown is how long a tripped circuit stays open before a
	// probe; default 30s.
	BreakCooldown time.Duration

	ConnectTimeout time.Duration // TCP connect; default 10s
	TLSTimeout     time.Duration // TLS handshake; default 10s
	// HeaderTimeout runs from the request sent to the response headers;
	// default 30s. One longer than the AttemptTimeout by more than a
	// thousandth of it (a Run's attempts share their timeouts' timers
	// within that) cannot end an attempt before the attempt timeout
	// does: the client then sets none, no timer per request.
	HeaderTimeout  time.Duration
	AttemptTimeout time.Duration // one attempt, body included; default 60s
	Deadline       time.Duration // one input, retries and back-off included; default 0 = none

	MaxBody      int64      // largest body read, after decoding, by every call (Get's included); default 10 MiB
	Body         BodyPolicy // what a Record keeps of each body (Run, Do); default BodyHash
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

	// AllowHosts, when not empty, is the only hosts requests may go to,
	// as scheme://host[:port] (the port defaulting to the scheme's), for
	// every call on the client and every redirect: a request or a
	// redirect to another host is refused before anything is sent to it,
	// with a KindForbiddenHost error, and not retried. Hosts are matched
	// exactly (the name case-insensitively): "localhost" and "127.0.0.1"
	// are distinct entries, and a name allowed is allowed whatever
	// address it resolves to. See "Allowed hosts" in the package
	// documentation.
	AllowHosts []string
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
	if c.PerHost < 0 || c.ReadAhead < 0 || c.Rate < 0 || c.PerHostRate < 0 || c.BreakAfter < 0 || c.BreakCooldown < 0 || c.MaxBody < 0 || c.BodyHead < 0 {
		return errors.New("per-host limit, read-ahead, rates, break-after, break-cooldown, max-body and body-head must not be negative")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"retry base", c.RetryBase}, {"retry max", c.RetryMax}, {"max retry wait", c.MaxRetryWait}, {"connect timeout", c.ConnectTimeout},
		{"TLS timeout", c.TLSTimeout}, {"header timeout", c.HeaderTimeout}, {"attempt timeout", c.AttemptTimeout}, {"deadline", c.Deadline}} {
		if d.v < 0 {
			return fmt.Errorf("the %s must not be negative (0: the default), got %v", d.name, d.v)
		}
	}
	if math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || math.IsNaN(c.PerHostRate) || math.IsInf(c.PerHostRate, 0) {
		return errors.New("rates must be finite numbers of requests per second (0: unlimited)")
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
	def(&c.BreakCooldown, 30*time.Second)
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
	if _, err := parseAllowHosts(c.AllowHosts); err != nil {
		return err
	}
	return nil
}
