// Package serve exposes flows as HTTP endpoints: an aggregating gateway,
// where one inbound request fans out to upstream calls (a flow's steps)
// and the answers are combined.
//
// A gateway file has listen (host:port), upstreams (the only hosts any
// route may call, as scheme://host[:port]), routes and limits:
//
//	listen: 127.0.0.1:8081
//	upstreams: [http://127.0.0.1:8080]
//	limits: {max_request_body: 1048576, rate: 50, burst: 100, rate_key: X-Api-Key}
//	routes:
//	  - method: GET
//	    path: /users/{id}
//	    timeout: 5s
//	    concurrency: 200
//	    flow: user.yaml            # or steps: and output: written here
//	    response:
//	      status: "${{ if .output.found then 200 else 404 end }}"
//	      headers: {Cache-Control: max-age=60}
//	      body: "${{ .output }}"
//
// Load reads a gateway and its flow files (relative to it), with every
// error placed at FILE:LINE:COL; New makes a Server of it; a Go program
// mounts one flow in its own server with NewHandler.
//
// # What a flow sees, and what the client gets
//
// A route's flow has {"path": {NAME: value}, "query": {NAME: value, or a
// list when repeated}, "headers": {lower-case name: value}, "body": the
// decoded JSON when the Content-Type is JSON, else the text, or null} as
// .input. Its output is the answer, as JSON with status 200, unless the
// route's response says otherwise: its status, headers and body are
// expressions over {input, steps, output}; a body that is a string is
// sent as text.
//
//   - A required step that fails answers 502 with {"error": {step,
//     kind, message, status}, "_steps": {...}}: which step, and how every
//     step ended (status, time, error, http_status). A transport
//     failure's message says what failed (the upstream could not be
//     reached), not the gateway's addresses; the access log has them.
//   - An optional step that fails still answers, with the header
//     X-Gather-Completed: false and a "_steps" block in the body: added
//     to an object, another JSON body wrapped as {"output": ...,
//     "_steps"}; a text body (a response body that is a string) has the
//     header only.
//   - Past the route's timeout the steps in flight are cancelled and the
//     answer is 504 naming them ("running").
//   - Beyond the route's concurrency the answer is 503 with Retry-After,
//     at once: requests do not queue behind a slow upstream. Beyond the
//     client's rate, 429; a body over max_request_body, 413.
//
// # Safety
//
// Every upstream call goes through one fetch.Client whose AllowHosts are
// the gateway's upstreams: a URL built from a path parameter or a query
// value (@host, //host, another port, encoded dots and slashes) that
// names another host is refused before anything is sent, after the
// templates and at every redirect (kind forbidden_host). Each answer an
// upstream gives is bounded (max_response_body, 10 MiB by default).
// Upstream calls are not retried unless limits.retries says so (then
// only idempotent methods, as fetch does) or a step's own retries do;
// limits.break_after opens an upstream's circuit after that many
// connection failures in a row, for break_cooldown.
//
// # Operations
//
// A Server answers GET /healthz (up) and /readyz (503 once draining);
// Metrics are Prometheus counters and histograms (requests by route and
// status, latency by route, upstream calls by host and outcome, requests
// in flight); Options.Log receives one structured access log record per
// request. gather serve adds /metrics, reloads the gateway on SIGHUP (an
// invalid file is refused and the old one keeps serving) and on SIGTERM
// stops accepting and finishes what is in flight.
package serve
