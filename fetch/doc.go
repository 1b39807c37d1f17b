// Package fetch is gather's HTTP engine: it turns a stream of requests into
// a stream of Records, one per input, with bounded concurrency overall and
// per host, rate limits, retries with back-off, separate timeouts, a
// circuit breaker per host, a body policy and a maximum body size. It is
// also a client for Go code that wants one response at a time (Get, Post,
// Fetch, GetJSON), with the same machinery.
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
//
// # One call, one response
//
// Get, Post, Fetch and GetJSON are the engine used one request at a time
// from Go code, as aiohttp's ClientSession is: each returns the whole
// response or an error, and goes through the same path as Run and Do:
//
//   - the client's limits, shared by every call on the client (Run's
//     inputs included): Concurrency requests in flight, PerHost per host,
//     Rate and PerHostRate;
//   - retries with exponential back-off and jitter, only where safe: after
//     a connection failure (nothing was sent) for any method; after a
//     reset or a timeout, and after a 502, 503 or 504, for idempotent
//     methods (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or with
//     RetryUnsafe; after a 429 for any method. Retry-After is honoured in
//     both its forms, up to MaxRetryWait, and pauses the whole host;
//   - the timeouts: ConnectTimeout, TLSTimeout, HeaderTimeout and
//     AttemptTimeout per attempt, Deadline per call, and ctx's own
//     deadline over everything (a deadline error, KindDeadline, not a
//     cancellation);
//   - the body bound: at most MaxBody bytes are read, after decoding
//     (gzip); a larger body is a KindTooLarge error, read no further. The
//     body policy (Body) is for Run's Records and does not apply;
//   - the circuit breaker (BreakAfter, BreakCooldown).
//
// They are safe for concurrent use by any number of goroutines, inside
// gather.Map or gather.Go as anywhere: the client bounds what is in
// flight, so a thousand goroutines calling Get on a client of Concurrency
// 64 have 64 requests on the wire and the rest waiting their turn.
//
// # Per-host state
//
// A client keeps, per host (scheme://host:port), a slot count for
// PerHost, a rate limiter for PerHostRate, a count of connection failures
// and the circuit breaker, and the end of a Retry-After pause. Every call
// (Run's inputs, Do, Get, Post, Fetch, GetJSON) shares it: the limits are
// the client's, not a call's.
//
// The state of a host is dropped when the host is idle: no request of the
// client to it is in flight or waiting (for a slot, a rate limit, a pause
// or a retry's back-off), its circuit is closed and no connection failure
// was counted in the last BreakCooldown (with BreakAfter set), no
// Retry-After pause is pending and its rate limiter has refilled. It is
// dropped at once when its last request ends idle; a host that becomes
// idle later (its pause or cool-down ends, its limiter refills) is dropped
// by a sweep of the table the next time new hosts have doubled it. So a
// long-lived client holds the state of the hosts it is talking to and of
// those whose pause, cool-down, count of failures or rate limit still
// matters (each for at most max(MaxRetryWait, BreakCooldown, 1/PerHostRate)
// after its last request), and its table is never larger than twice what
// those were at its last sweep, or 64, whatever the number of hosts it has
// seen: a few hundred bytes a host.
//
// # Allowed hosts
//
// Config.AllowHosts, when not empty, is the only hosts the client may
// send requests to, for every call (Run, Do, DoResponse, Get, Post,
// Fetch, GetJSON) and every redirect: the guard of a program that builds
// URLs from input it does not trust. Each entry is scheme://host[:port],
// the scheme http or https, the port the scheme's when absent, with no
// user information, path, query or fragment; New refuses any other, naming
// it.
//
// A request is checked once prepared, by the host of the URL as it will
// be sent: the per-host key (HostOf, scheme://host:port), after net/url
// has parsed the URL (so "http://a@b/" goes to b, "http://b#@a/" to b),
// decoded its percent-encoding, and lower-cased the name; a non-ASCII name
// is compared in its IDNA (punycode) form, as net/http dials it, and an
// IPv6 address in its canonical form. A redirect is checked the same way
// before it is followed. What is not allowed is never sent (no connection
// is made to the host): the request fails with a KindForbiddenHost error,
// "host http://10.0.0.1:80 is not among the allowed upstreams" or
// "redirect to http://10.0.0.1:80 is not among the allowed upstreams",
// which is not retried and does not count against a host's circuit. A URL
// that does not parse, or whose host is not a valid name or address, is
// bad_input, as ever. The path and query are not looked at: a path that
// reads "//other-host/" or "..%2F" still goes to the allowed host.
//
// Hosts are matched exactly, by name, never by address: "localhost",
// "127.0.0.1" and "[::1]" are three distinct entries (list each one
// meant), "http://h" and "http://h:80" are the same one, "https://h" is
// another, and a trailing dot makes another name. An allowed name is
// allowed whatever address DNS gives it, at each connection: there is no
// protection against DNS rebinding beyond that. A proxy from the
// environment (HTTP_PROXY) still carries the allowed requests, and a
// request's own Host header is sent as it is, to the allowed host.
package fetch
