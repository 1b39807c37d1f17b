// Package upstream is a small local HTTP/1.1 server with knobs for latency,
// failures, body size and content, and broken connections. gather's tests,
// its benchmarks and the `gather demo` command fetch from it on 127.0.0.1.
// It uses only the standard library and is built to answer tens of thousands
// of requests per second from a client on the same machine.
//
//	s, err := upstream.Start(upstream.Config{Latency: 20 * time.Millisecond})
//	if err != nil { ... }
//	defer s.Close()
//	resp, err := http.Get(s.URL() + "/items/1?size=4096&fail_first=2")
//
// Any path is served (paths under /demo/ are an API of their own, see Demo
// API). Defaults come from Config; a query parameter sets the
// same knob for one request and wins. Unknown parameters are ignored (add
// your own to make URLs distinct); a knob with a bad value gets
// 400 Bad Request with the reason in the body.
//
// # Query parameters
//
//	parameter       default (Config)     effect
//	---------       ----------------     ------
//	latency=50ms    Latency              wait before the response headers (a Go duration)
//	jitter=20ms     LatencyJitter        plus a uniform random extra in [0, jitter)
//	status=503      -                    answer this status (200-599); with fail or
//	                                     fail_first, the status of the failures only
//	fail=0.3        FailRate             fail with this probability in [0, 1]
//	fail_first=N    -                    the first N requests to this path fail, the
//	                                     next ones succeed (or fail at the fail rate)
//	retry_after=2   RetryAfter           Retry-After value (seconds or an HTTP-date)
//	                                     sent with every response of status >= 400
//	size=N          BodySize             a body of exactly N bytes (see Bodies)
//	gzip=1          -                    gzip the body, with Content-Encoding: gzip
//	bomb=N          -                    a gzip body that decompresses to N zero bytes
//	chunk_delay=D   -                    a slow body: sleep D between 4 KiB pieces
//	redirect=N      -                    302 to the same URL with redirect=N-1, until 0
//	loop=1          -                    302 to the same URL, forever
//	reset=1         -                    no response: close the connection with a TCP RST
//	malformed=1     -                    no response: write bytes that are not HTTP, close
//	hang=1          -                    no response until the client goes away or the
//	                                     server closes
//	echo=1          -                    answer JSON describing the request (see Echo)
//
// Boolean parameters take 1/0, true/false, t/f.
//
// # Failures
//
// A failure is `status`, `reset`, `malformed` or `hang`, or FailStatus
// (default 503) when none of those is given. Without `fail` or `fail_first`
// an explicit failure applies to every request (status=404 always answers
// 404) and Config.FailRate is not used. With `fail` or `fail_first` it
// applies to failing requests only, and the others get 200: the first N
// requests to the path fail (fail_first=N) and after that each fails with
// probability `fail` (or Config.FailRate). fail_first=2&reset=1 resets two
// connections and then answers; fail_first=1&hang=1 hangs once. The count
// is per URL path, without the query, as in Stats.ByPath, and restarts at
// Reset; every response carries it in the X-Request-Seq header (1 for the
// first request to a path).
//
// Requests are decided in this order: latency; a failure chosen by `fail`
// or `fail_first`, or by Config.FailRate when the request asks for no
// explicit failure; redirects (`loop`, `redirect`); an explicit failure;
// 200. So redirect=3&reset=1 redirects three times and then resets, and
// Config.FailRate can fail any hop.
//
// Random choices (jitter, fail rates) come from Config.Seed, so a run that
// sends the same requests in the same order gets the same answers.
//
// # Bodies
//
// Every response carries Content-Type: text/plain; charset=utf-8, or
// application/json for echo, and Content-Length whenever the length is
// known before the body is sent (everything except gzip=1 over more than
// 1 MiB). HEAD requests get the same headers and no body; 204 and 304
// responses have no body.
//
// echo wins over bomb, and bomb over size. Without any of them (and with
// BodySize 0) the body is "ok <path>\n",
// or "<status> <text> <path>\n" when the status is 400 or more. The body
// knobs apply whatever the status, failures included; redirects always get a
// short text body.
//
// size=N is N bytes of pseudo-random lowercase words and newlines, the same
// for every request and every server: byte i of the body is byte i mod 65536
// of a fixed 64 KiB block, so a body of any size streams without being held
// in memory and its SHA-256 depends only on N. The block is longer than
// gzip's window, so it compresses like text (about 1.7:1), not like a
// repeated string.
//
// bomb=N is a valid gzip stream of N zero bytes at about 1000:1 (1 GiB in
// about 1 MiB), built from precomputed deflate blocks: it costs the server
// almost nothing and always has a Content-Length. gzip=1 with bomb adds
// nothing.
//
// chunk_delay applies to the bytes on the wire (after gzip): the body is
// written and flushed in 4 KiB pieces with the delay between two pieces,
// none before the first or after the last.
//
// # Echo
//
// echo=1 answers a JSON object: method, path, raw_query, query (name to
// values), headers (name to values, as received), host, proto,
// content_length (-1 if unknown) and the request body, as "body" when it
// is valid UTF-8, else as "body_base64". Request bodies over 16 MiB get 413.
// The status is 200, or the one the failure rules give.
//
// # Waits and closing
//
// Every wait (latency, chunk delay, hang) ends when the client goes away
// or the server closes. Close stops accepting, releases every wait at once,
// lets responses in progress finish for a short grace, then closes the
// remaining connections and waits until every handler has returned. A
// request cut short by Close gets a broken connection, never a made-up
// response.
//
// # Demo API
//
// Paths under /demo/ are a tiny shop for the flows of examples/. They
// answer JSON (Content-Type: application/json) unless said otherwise, and
// an error as {"error": "..."}: 404 for an unknown path or id, 405 for
// another method, 400 for a bad body.
//
//	POST /demo/login       {"user": "demo", "password": "demo-password"} ->
//	                       {"token": DemoToken, "expires_in": 3600}; else 401
//	GET  /demo/me          {"user", "name", "email"}       these three want
//	GET  /demo/orders      {"orders": [1, 2, 3]}           Authorization: Bearer
//	GET  /demo/messages    {"unread": 2}                   DemoToken, else 401
//	GET  /demo/orders/ID   {"id": ID, "customer": "demo", "items": [ID*10+1, ...]}
//	                       with ID%3+1 items; ID in [1, 999999]
//	GET  /demo/items/ID    {"id": ID, "name": "item ID", "price": ID%10+1}
//	GET  /demo/quote       {"text", "author"}
//	GET  /demo/feed.xml    an RSS feed (application/rss+xml, no charset)
//	                       in ISO-8859-1, as its XML declaration says,
//	                       with a <lastBuildDate> and non-ASCII titles
//	GET  /demo/words       text/plain: six words, one a line, not sorted
//	POST /demo/summaries   keeps the JSON body and answers 201
//	                       {"received": BODY, "count": N}
//	GET  /demo/summaries   {"summaries": [every body kept, in order]}
//
// A server keeps the first 10000 summaries (then 507); Reset does not
// forget them. latency and jitter apply to demo paths; the other knobs do
// not (a bad value still gets 400). Demo requests count in Stats like the
// others.
//
// # Statistics
//
// Stats counts requests in total, per URL path, and the most requests in
// progress at once per Host header (requests to different host names on the
// same server count apart, as different upstreams would). GET /_stats
// returns the same as JSON and POST /_reset calls Reset; neither is counted.
// The tables keep at most 1<<20 distinct paths and hosts each; the ones after
// that share the entry "(other)".
package upstream
