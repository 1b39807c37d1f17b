package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// gather serve: --check, a gateway answering its routes with metrics and
// an access log, the examples' feed route, SIGHUP reloads (also under
// load), SIGTERM with requests in flight, slow clients and a route's
// concurrency. Everything but --check runs the built binary: signals and
// the process's exit are what is tested.

// TestServeCheck: --check says ok with the number of routes (exit 0), or
// lists every error of an invalid gateway as FILE:LINE:COL (exit 2),
// those of an inline flow named in the gateway and those of a flow file
// named in that file.
func TestServeCheck(t *testing.T) {
	valid := filepath.Join("testdata", "serve", "valid.yaml")
	out, res := runInRaw("", "serve", "--check", valid)
	if res.code != exitOK || string(out) != valid+": ok (2 routes)\n" {
		t.Fatalf("--check %s: exit %d, stdout %q, stderr %q", valid, res.code, out, res.stderr)
	}

	invalid := filepath.Join("testdata", "serve", "invalid.yaml")
	out, res = runInRaw("", "serve", "--check", invalid)
	if res.code != exitUsage || len(out) != 0 {
		t.Fatalf("--check %s: exit %d (want %d), stdout %q", invalid, res.code, exitUsage, out)
	}
	lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
	if want := "gather: " + invalid + ": invalid gateway (3 errors)"; lines[0] != want {
		t.Fatalf("stderr starts %q, want %q; stderr:\n%s", lines[0], want, res.stderr)
	}
	if len(lines) != 4 {
		t.Fatalf("%d error lines, want 3; stderr:\n%s", len(lines)-1, res.stderr)
	}
	// The gateway's own errors first (the inline flow's, then the route's
	// timeout), then the flow file's.
	if want := invalid + `:10:54: unknown key "neeeds" in step "a"`; !strings.HasPrefix(lines[1], want) {
		t.Errorf("inline flow's error %q, want it to start %q", lines[1], want)
	}
	if want := invalid + `:14:14: "timeout" of the route: invalid duration "soon"`; !strings.HasPrefix(lines[2], want) {
		t.Errorf("route's error %q, want it to start %q", lines[2], want)
	}
	// The flow file's error names that file. (It is named as the gateway
	// wrote it, relative to the gateway's directory, not as a path from
	// where gather runs: accepted both ways here, see the report.)
	flowErr := lines[3]
	if !strings.HasPrefix(flowErr, "bad_flow.yaml:4:57: bad expression") &&
		!strings.HasPrefix(flowErr, filepath.Join("testdata", "serve", "bad_flow.yaml")+":4:57: bad expression") {
		t.Errorf("flow file's error %q, want bad_flow.yaml:4:57: bad expression ...", flowErr)
	}
	if !strings.HasPrefix(flowErr, filepath.Join("testdata", "serve", "bad_flow.yaml")) {
		t.Logf("note: the flow file's error is named %q, not by its path from here", strings.SplitN(flowErr, ":", 2)[0])
	}
}

// serveProc is a running `gather serve`.
type serveProc struct {
	*process
	addr   string // host:port it listens on
	base   string // http://addr
	client *http.Client
}

// freeAddr returns a loopback address nothing listens on (a listener on
// port 0, closed).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// writeFile writes a test's file.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newTestClient is an HTTP client of the test's own, its idle
// connections closed at the end (goleak).
func newTestClient(t *testing.T, timeout time.Duration) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 100}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// startServe runs the binary's gather serve on gateway (which listens on
// addr) and waits until /healthz answers. The process is killed at the
// end of the test if it is still running.
func startServe(t *testing.T, gateway, addr string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{process: startProcess(t, "gather serve", append(append([]string{"serve"}, args...), gateway)...),
		addr: addr, base: "http://" + addr, client: newTestClient(t, 10*time.Second)}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := p.client.Get(p.base + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == "ok\n" {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("gather serve exited before answering /healthz: %v; stderr:\n%s", p.err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("gather serve did not answer /healthz on %s: %v; stderr:\n%s", addr, err, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get answers a GET: status, Content-Type, body.
func (p *serveProc) get(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	resp, err := p.client.Get(p.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v; stderr:\n%s", path, err, p.stderr)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", path, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// metric returns the value of the sample of family name whose labels are
// labels (name=value pairs), parsing /metrics as Prometheus does; -1
// when there is none.
func (p *serveProc) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	resp, err := p.client.Get(p.base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	fam, ok := families[name]
	if !ok {
		return -1
	}
next:
	for _, m := range fam.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// accessLog returns the JSON lines of the process's stderr.
func (p *serveProc) accessLog(t *testing.T) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("an access log line is not JSON: %q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// wait waits for the process to exit, at most d, and returns its exit
// code.
func (p *serveProc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("gather serve still running %v after it was told to stop; stderr:\n%s", d, p.stderr)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	} else if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// terminate sends SIGTERM and checks the process exits 0.
func (p *serveProc) terminate(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr)
	}
}

// hostPort is an upstream's host:port.
func hostPort(srv *upstream.Server) string { return strings.TrimPrefix(srv.URL(), "http://") }

// TestServeRoutesMetricsAccessLog: a route answers its flow's output as
// JSON; /metrics parses as Prometheus text and counts each request by
// route and status; stderr has one JSON access log line per request.
func TestServeRoutesMetricsAccessLog(t *testing.T) {
	up := upstreamtest.Start(t, upstream.Config{})
	addr := freeAddr(t)
	gw := filepath.Join(t.TempDir(), "gateway.yaml")
	writeFile(t, gw, fmt.Sprintf(`listen: %s
upstreams: [%s]
routes:
  - path: /orders/{id}
    flow:
      steps:
        order: {http: {url: "%s/demo/orders/${{ .input.path.id }}"}}
      output: "${{ .steps.order.body }}"
`, addr, up.URL(), up.URL()))
	p := startServe(t, gw, addr)

	for _, id := range []string{"7", "3", "7"} {
		status, h, body := p.get(t, "/orders/"+id)
		var got, want any
		json.Unmarshal([]byte(body), &got)
		json.Unmarshal(fmt.Appendf(nil, `{"id":%s,"customer":"demo","items":%s}`, id, map[string]string{"7": "[71,72]", "3": "[31]"}[id]), &want)
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("GET /orders/%s: %d %s %q, want 200 JSON %v", id, status, h.Get("Content-Type"), body, want)
		}
	}
	if status, _, _ := p.get(t, "/nowhere"); status != 404 {
		t.Errorf("GET /nowhere: %d, want 404", status)
	}
	route := "GET /orders/{id}"
	if n := p.metric(t, "gather_serve_requests_total", "route", route, "status", "200"); n != 3 {
		t.Errorf("gather_serve_requests_total{route=%q,status=200} = %v, want 3", route, n)
	}
	if n := p.metric(t, "gather_serve_request_duration_seconds", "route", route); n != 3 {
		t.Errorf("gather_serve_request_duration_seconds{route=%q} has %v samples, want 3", route, n)
	}
	if n := p.metric(t, "gather_serve_upstream_calls_total", "host", up.URL(), "outcome", "ok"); n != 3 {
		_, _, text := p.get(t, "/metrics")
		var samples []string
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "gather_serve_upstream_calls_total") {
				samples = append(samples, line)
			}
		}
		t.Errorf("gather_serve_upstream_calls_total{host=%q,outcome=ok} = %v, want 3; /metrics has %q", up.URL(), n, samples)
	}
	if n := p.metric(t, "gather_serve_in_flight", "route", route); n != 0 {
		t.Errorf("gather_serve_in_flight{route=%q} = %v, want 0", route, n)
	}

	// One access log line per request to the gateway's routes, 404
	// included (the health checks and /metrics are not routes).
	var recs []map[string]any
	waitUntil(t, "4 access log lines", 5*time.Second, func() bool { recs = p.accessLog(t); return len(recs) >= 4 })
	var routed []map[string]any
	for _, r := range recs {
		if r["path"] != "/healthz" {
			routed = append(routed, r)
		}
	}
	if len(routed) != 4 {
		t.Fatalf("%d access log lines for 4 requests:\n%s", len(routed), p.stderr)
	}
	for i, path := range []string{"/orders/7", "/orders/3", "/orders/7", "/nowhere"} {
		r := routed[i]
		wantRoute, wantStatus := route, 200.0
		if path == "/nowhere" {
			wantRoute, wantStatus = "", 404
		}
		ms, isNum := r["ms"].(float64)
		if r["method"] != "GET" || r["path"] != path || r["route"] != wantRoute || r["status"] != wantStatus || !isNum || ms < 0 {
			t.Errorf("access log line %d: %v, want GET %s route %q status %v and ms", i, r, path, wantRoute, wantStatus)
		}
	}
	p.terminate(t)
}

// TestServeFeedExample: examples/gateway.yaml's /greeting route (the feed
// reader of examples/feed.yaml, an ISO-8859-1 feed read with xpath)
// answers its greeting as text.
func TestServeFeedExample(t *testing.T) {
	up := upstreamtest.Start(t, upstream.Config{})
	addr := freeAddr(t)
	dir := t.TempDir()
	for _, name := range []string{"gateway.yaml", "feed.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), "127.0.0.1:8080", hostPort(up))
		text = strings.ReplaceAll(text, "listen: 127.0.0.1:8081", "listen: "+addr)
		writeFile(t, filepath.Join(dir, name), text)
	}
	p := startServe(t, filepath.Join(dir, "gateway.yaml"), addr)
	status, h, body := p.get(t, "/greeting")
	want := "Hello! Café Gather was last built on Sun, 01 Nov 2026 09:30:00 GMT.\n"
	if status != 200 || h.Get("Content-Type") != "text/plain; charset=utf-8" || body != want {
		t.Fatalf("GET /greeting: %d %q %q, want 200 text/plain %q", status, h.Get("Content-Type"), body, want)
	}
	if up.Stats().ByPath["/demo/feed.xml"] != 1 {
		t.Errorf("the upstream saw %v, want one GET /demo/feed.xml", up.Stats().ByPath)
	}
}

// reloadGateway is a gateway with the routes paths, each calling the
// upstream's /PATH with a little latency.
func reloadGateway(addr, upstreamURL string, paths ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %s\nupstreams: [%s]\nroutes:\n", addr, upstreamURL)
	for _, path := range paths {
		fmt.Fprintf(&b, "  - path: /%s\n    flow:\n      steps:\n        up: {http: {url: \"%s/%s?latency=2ms\"}}\n      output: {route: %s, status: \"${{ .steps.up.status }}\"}\n",
			path, upstreamURL, path, path)
	}
	return b.String()
}

// TestServeReload: SIGHUP reloads the gateway (a new route answers); an
// invalid gateway is refused with its FILE:LINE:COL errors and the old
// routes keep answering; and requests sent all along two reloads by 20
// clients are every one answered 200.
func TestServeReload(t *testing.T) {
	up := upstreamtest.Start(t, upstream.Config{})
	addr := freeAddr(t)
	gw := filepath.Join(t.TempDir(), "gateway.yaml")
	writeFile(t, gw, reloadGateway(addr, up.URL(), "a"))
	p := startServe(t, gw, addr, "--access-log=false")
	reloads := func() int { return strings.Count(p.stderr.String(), "gather serve: reloaded ") }
	routeAnswers := func(path string) bool {
		status, _, body := p.get(t, "/"+path)
		return status == 200 && body == fmt.Sprintf(`{"route":"%s","status":200}`+"\n", path)
	}
	if !routeAnswers("a") {
		t.Fatalf("/a does not answer before any reload")
	}
	if status, _, _ := p.get(t, "/b"); status != 404 {
		t.Fatalf("/b answers %d before the reload that adds it", status)
	}

	writeFile(t, gw, reloadGateway(addr, up.URL(), "a", "b"))
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, "the new route /b after SIGHUP", 10*time.Second, func() bool { return routeAnswers("b") })
	if !routeAnswers("a") || reloads() != 1 || !strings.Contains(p.stderr.String(), "reloaded "+gw+": 2 routes") {
		t.Fatalf("after the reload: /a answers %v, stderr:\n%s", routeAnswers("a"), p.stderr)
	}

	// An invalid gateway: refused, with its error, and /a and /b go on.
	bad := reloadGateway(addr, up.URL(), "a", "b", "c") + "    timeout: soon\n"
	writeFile(t, gw, bad)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, "the reload to be refused", 10*time.Second, func() bool { return strings.Contains(p.stderr.String(), "reload refused") })
	time.Sleep(50 * time.Millisecond) // the rest of the message
	refusal := p.stderr.String()[strings.Index(p.stderr.String(), "gather serve: reload refused"):]
	wantErr := gw + `:19:14: "timeout" of the route: invalid duration "soon" (write e.g. 10s, 1m30s, 500ms)`
	if !strings.Contains(refusal, wantErr) || !strings.Contains(refusal, "invalid gateway (1 error)") {
		t.Errorf("the refusal does not give the error %q:\n%s", wantErr, refusal)
	}
	for _, path := range []string{"a", "b"} {
		if !routeAnswers(path) {
			t.Errorf("/%s no longer answers after a refused reload", path)
		}
	}
	if status, _, _ := p.get(t, "/c"); status != 404 {
		t.Errorf("/c of the refused gateway answers %d", status)
	}
	if status, _, body := p.get(t, "/readyz"); status != 200 {
		t.Errorf("/readyz after a refused reload: %d %q", status, body)
	}

	// Under load: 20 clients send requests to /a and /b all along two
	// reloads; each must be answered 200.
	var (
		stop             atomic.Bool
		sent, ok         atomic.Int64
		failMu           sync.Mutex
		failures         []string
		wg               sync.WaitGroup
		loadClient       = newTestClient(t, 10*time.Second)
		recordFailure    = func(s string) { failMu.Lock(); failures = append(failures, s); failMu.Unlock() }
		before           = reloads()
		sentBeforeReload int64
	)
	for w := range 20 {
		wg.Go(func() {
			path := []string{"/a", "/b"}[w%2]
			for !stop.Load() {
				sent.Add(1)
				resp, err := loadClient.Get(p.base + path)
				if err != nil {
					recordFailure(err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					recordFailure(fmt.Sprintf("%s: %s", path, resp.Status))
					continue
				}
				ok.Add(1)
			}
		})
	}
	waitUntil(t, "load before the reloads", 10*time.Second, func() bool { return sent.Load() >= 100 })
	sentBeforeReload = sent.Load()
	for i, routes := range [][]string{{"a", "b", "d"}, {"a", "b"}} {
		writeFile(t, gw, reloadGateway(addr, up.URL(), routes...))
		p.cmd.Process.Signal(syscall.SIGHUP)
		waitUntil(t, fmt.Sprintf("reload %d under load", i+1), 10*time.Second, func() bool { return reloads() == before+i+1 })
		// Load goes on a while after each reload: at least 300 ms and
		// 100 requests.
		n, reloaded := sent.Load(), time.Now()
		waitUntil(t, "load after the reload", 10*time.Second, func() bool {
			return sent.Load() >= n+100 && time.Since(reloaded) > 300*time.Millisecond
		})
	}
	stop.Store(true)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests across two reloads failed; the first: %s", len(failures), sent.Load(), failures[0])
	}
	if ok.Load() != sent.Load() {
		t.Errorf("%d of %d requests answered 200", ok.Load(), sent.Load())
	}
	t.Logf("%d requests by 20 clients across two reloads (%d before the first), all 200", sent.Load(), sentBeforeReload)
	if status, _, _ := p.get(t, "/d"); status != 404 {
		t.Errorf("/d, removed by the last reload, answers %d", status)
	}
	p.terminate(t)
}

// TestServeSIGTERMFinishesInFlight: 50 requests in flight (their
// upstream takes 500 ms) when SIGTERM comes are every one answered 200;
// new connections are refused from then on; the process exits 0 within
// --grace and says it stopped.
func TestServeSIGTERMFinishesInFlight(t *testing.T) {
	up := upstreamtest.Start(t, upstream.Config{})
	addr := freeAddr(t)
	gw := filepath.Join(t.TempDir(), "gateway.yaml")
	writeFile(t, gw, fmt.Sprintf(`listen: %s
upstreams: [%s]
routes:
  - path: /slow/{n}
    flow:
      steps:
        up: {http: {url: "%s/slow/${{ .input.path.n }}?latency=500ms"}}
      output: {n: "${{ .input.path.n }}", status: "${{ .steps.up.status }}"}
`, addr, up.URL(), up.URL()))
	const grace = 5 * time.Second
	p := startServe(t, gw, addr, "--grace", grace.String(), "--access-log=false")

	const n = 50
	type answer struct {
		status int
		body   string
		err    error
		at     time.Time
	}
	answers := make(chan answer, n)
	client := newTestClient(t, 20*time.Second)
	for i := range n {
		go func() {
			resp, err := client.Get(fmt.Sprintf("%s/slow/%d", p.base, i))
			a := answer{err: err}
			if err == nil {
				b, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				a.status, a.body, a.err = resp.StatusCode, string(b), rerr
			}
			a.at = time.Now()
			answers <- a
		}()
	}
	waitUntil(t, "50 requests in flight", 15*time.Second, func() bool {
		return p.metric(t, "gather_serve_in_flight", "route", "GET /slow/{n}") == n
	})
	p.client.CloseIdleConnections() // the metrics' connection
	sigterm := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)

	// New connections are refused once the listener is closed.
	var refusedAt time.Time
	for time.Since(sigterm) < 3*time.Second {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if errors.Is(err, syscall.ECONNREFUSED) {
			refusedAt = time.Now()
			break
		}
		// Before the listener closes a dial connects; one in its backlog
		// as it closes is reset.
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("a new connection after SIGTERM: %v, want connection refused", err)
		}
		if c != nil {
			c.Close()
		}
		time.Sleep(5 * time.Millisecond)
	}
	if refusedAt.IsZero() {
		t.Fatalf("new connections still accepted 3s after SIGTERM")
	}

	after := 0
	var last time.Time
	for range n {
		a := <-answers
		if a.err != nil || a.status != 200 || !strings.Contains(a.body, `"status":200`) {
			t.Errorf("a request in flight at SIGTERM: %d %q %v", a.status, a.body, a.err)
		}
		if a.at.After(sigterm) {
			after++
		}
		if a.at.After(last) {
			last = a.at
		}
	}
	if after == 0 {
		t.Fatalf("every answer came before SIGTERM: the test proved nothing (a loaded machine?)")
	}
	code := p.wait(t, grace+3*time.Second)
	exited := time.Since(sigterm)
	if code != 0 || !strings.Contains(p.stderr.String(), "gather serve: stopped; every request accepted was answered") {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr)
	}
	if _, err := client.Get(p.base + "/slow/x"); err == nil {
		t.Errorf("a request after the exit was answered")
	}
	t.Logf("%d of %d answers after SIGTERM, the last %v after it; connections refused %v after it, before the last answer: %v; exit %v after it",
		after, n, last.Sub(sigterm).Round(time.Millisecond), refusedAt.Sub(sigterm).Round(time.Millisecond), refusedAt.Before(last), exited.Round(time.Millisecond))
}

// TestServeSlowloris: with 1,000 connections sending their request
// headers a byte every 500 ms, a normal request is still answered within
// 2 s.
func TestServeSlowloris(t *testing.T) {
	up := upstreamtest.Start(t, upstream.Config{})
	addr := freeAddr(t)
	gw := filepath.Join(t.TempDir(), "gateway.yaml")
	writeFile(t, gw, reloadGateway(addr, up.URL(), "a"))
	p := startServe(t, gw, addr, "--access-log=false")

	n := 1000
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(n)+256 {
		n = max(10, int(lim.Cur)-256)
		t.Logf("open files limited to %d: %d slow connections instead of 1,000", lim.Cur, n)
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for len(conns) < n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("slow connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	header := "GET /a HTTP/1.1\r\nHost: slow\r\nX-Slow: "
	var broken atomic.Int64
	send := func(i int) {
		for _, c := range conns {
			c.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := c.Write([]byte{header[i%len(header)]}); err != nil {
				broken.Add(1)
			}
		}
	}
	done := make(chan struct{})
	var dripper sync.WaitGroup
	dripper.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			send(i)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	time.Sleep(700 * time.Millisecond) // every connection has sent a byte, and a second one is on its way
	client := newTestClient(t, 10*time.Second)
	var slowest time.Duration
	for range 3 {
		start := time.Now()
		resp, err := client.Get(p.base + "/a")
		took := time.Since(start)
		if err != nil {
			t.Fatalf("a normal request among %d slow connections: %v", n, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != `{"route":"a","status":200}`+"\n" {
			t.Fatalf("a normal request among %d slow connections: %d %q", n, resp.StatusCode, b)
		}
		if took > 2*time.Second {
			t.Fatalf("a normal request among %d slow connections took %v, want < 2s", n, took)
		}
		slowest = max(slowest, took)
		client.CloseIdleConnections() // a new connection each time
		time.Sleep(300 * time.Millisecond)
	}
	close(done)
	dripper.Wait()
	if b := broken.Load(); b > 0 {
		t.Errorf("%d writes of the slow connections failed: they were closed while still within ReadHeaderTimeout", b)
	}
	t.Logf("%d slow connections open; normal requests answered in at most %v", n, slowest.Round(time.Millisecond))
}

// TestServeRouteConcurrency: beyond a route's concurrency the answer is
// 503 with Retry-After, at once, while the requests within it are
// answered.
func TestServeRouteConcurrency(t *testing.T) {
	up := upstreamtest.Start(t, upstream.Config{})
	addr := freeAddr(t)
	gw := filepath.Join(t.TempDir(), "gateway.yaml")
	writeFile(t, gw, fmt.Sprintf(`listen: %s
upstreams: [%s]
routes:
  - path: /slow
    concurrency: 2
    flow:
      steps:
        up: {http: {url: "%s/slow?latency=1500ms"}}
      output: "${{ .steps.up.status }}"
`, addr, up.URL(), up.URL()))
	p := startServe(t, gw, addr, "--access-log=false")
	client := newTestClient(t, 10*time.Second)
	statuses := make(chan int, 2)
	for range 2 {
		go func() {
			resp, err := client.Get(p.base + "/slow")
			if err != nil {
				statuses <- -1
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	waitUntil(t, "2 requests in flight", 10*time.Second, func() bool {
		return p.metric(t, "gather_serve_in_flight", "route", "GET /slow") == 2
	})
	start := time.Now()
	status, h, body := p.get(t, "/slow")
	took := time.Since(start)
	if status != 503 || h.Get("Retry-After") == "" || !strings.Contains(body, "the route has 2 requests in flight, its limit") {
		t.Fatalf("a third request: %d Retry-After %q %q, want 503 with Retry-After", status, h.Get("Retry-After"), body)
	}
	if took > time.Second {
		t.Errorf("the 503 took %v: it should not wait behind the slow upstream", took)
	}
	for range 2 {
		if s := <-statuses; s != 200 {
			t.Errorf("a request within the concurrency: %d", s)
		}
	}
	if n := p.metric(t, "gather_serve_requests_total", "route", "GET /slow", "status", "503"); n != 1 {
		t.Errorf("gather_serve_requests_total{status=503} = %v, want 1", n)
	}
	if status, _, _ := p.get(t, "/slow"); status != 200 {
		t.Errorf("once the slots are free: %d, want 200", status)
	}
}
