package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newClient(t *testing.T, cfg fetch.Config) *fetch.Client {
	t.Helper()
	c, err := fetch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func requests(urls ...string) iter.Seq[fetch.Request] {
	return func(yield func(fetch.Request) bool) {
		for i, u := range urls {
			if !yield(fetch.Request{Line: i + 1, URL: u}) {
				return
			}
		}
	}
}

func collect(c *fetch.Client, reqs iter.Seq[fetch.Request]) map[int]fetch.Record {
	out := map[int]fetch.Record{}
	for r := range c.Run(context.Background(), reqs) {
		if _, dup := out[r.Line]; dup {
			panic(fmt.Sprintf("two records for line %d", r.Line))
		}
		out[r.Line] = r
	}
	return out
}

func kindOf(r fetch.Record) fetch.Kind {
	if r.Error == nil {
		return ""
	}
	return r.Error.Kind
}

// One record per input across a mix of faults, each with the right kind.
func TestFaultMix(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	u := srv.URL()
	cases := []struct {
		url    string
		kind   fetch.Kind
		status int
	}{
		{u + "/ok", "", 200},
		{u + "/retry-then-ok?fail_first=1&status=503&retry_after=0", "", 200},
		{u + "/always-503?status=503", fetch.KindHTTPStatus, 503},
		{u + "/not-found?status=404", fetch.KindHTTPStatus, 404},
		{u + "/reset?reset=1", fetch.KindReset, 0},
		{u + "/hang?hang=1", fetch.KindTimeoutHeaders, 0},
		{u + "/slow-body?size=100000&chunk_delay=300ms", fetch.KindTimeoutTotal, 200},
		{u + "/big?size=300000", fetch.KindTooLarge, 200},
		{u + "/bomb?bomb=100000000", fetch.KindTooLarge, 200},
		{u + "/loop?loop=1", fetch.KindRedirectLoop, 0},
		{u + "/malformed?malformed=1", fetch.KindBadResponse, 0},
		{"not a url", fetch.KindBadInput, 0},
		{"ftp://example.com/x", fetch.KindBadInput, 0},
		{"http://127.0.0.1:1/refused", fetch.KindConnect, 0},
	}
	var urls []string
	for _, c := range cases {
		urls = append(urls, c.url)
	}
	client := newClient(t, fetch.Config{
		Concurrency: 8, Retries: 1, RetryBase: time.Millisecond, MaxBody: 200000,
		// Timeouts far above what the answers take, on a loaded machine
		// too (a test never fails on a timing): only the hang and the
		// slow body reach them.
		HeaderTimeout: 3 * time.Second, AttemptTimeout: 5 * time.Second,
	})
	got := collect(client, requests(urls...))
	if len(got) != len(cases) {
		t.Fatalf("%d records for %d inputs", len(got), len(cases))
	}
	for i, c := range cases {
		r := got[i+1]
		if kindOf(r) != c.kind || (c.status != 0 && r.Status != c.status) {
			t.Errorf("%s: kind %q status %d (%+v), want %q %d", c.url, kindOf(r), r.Status, r.Error, c.kind, c.status)
		}
	}
	if r := got[2]; r.Attempts != 2 || len(r.Retries) != 1 || r.Retries[0].Status != 503 {
		t.Errorf("retry then ok: %+v", r)
	}
	if r := got[1]; r.SHA256 == "" || r.Bytes == 0 || r.Method != "GET" {
		t.Errorf("ok record lacks its body facts: %+v", r)
	}
}

func TestRetriesStopAtLimitAndHonourRetryAfter(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Retries: 2, RetryBase: time.Millisecond})
	start := time.Now()
	rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: srv.URL() + "/x?status=503&retry_after=1"})
	if rec.Attempts != 3 || kindOf(rec) != fetch.KindHTTPStatus || rec.Status != 503 {
		t.Fatalf("record %+v", rec)
	}
	if srv.Stats().ByPath["/x"] != 3 {
		t.Fatalf("the server saw %d requests, want 3", srv.Stats().ByPath["/x"])
	}
	// Two waits of at least the Retry-After second each.
	if elapsed := time.Since(start); elapsed < 2*time.Second {
		t.Fatalf("retries took %v, less than two Retry-After seconds", elapsed)
	}
	for _, a := range rec.Retries {
		if a.WaitMS < 1000 {
			t.Fatalf("waited %vms before a retry, Retry-After said 1s", a.WaitMS)
		}
	}
}

func TestNonIdempotentNotRetriedAfterResponse(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Retries: 3, RetryBase: time.Millisecond})
	rec := client.Do(context.Background(), fetch.Request{Line: 1, Method: "POST", URL: srv.URL() + "/p?status=503"})
	if rec.Attempts != 1 {
		t.Fatalf("a POST was retried after a 503: %+v", rec)
	}
	rec = client.Do(context.Background(), fetch.Request{Line: 1, Method: "POST", URL: "http://127.0.0.1:1/refused"})
	if rec.Attempts != 4 || kindOf(rec) != fetch.KindConnect {
		t.Fatalf("a refused POST (nothing sent) should be retried: %+v", rec)
	}
}

func TestPerHostLimitAndSlowHostDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	// The slow host answers only once every fast record has come: the
	// test needs no timing, a loaded machine cannot fail it.
	release := make(chan struct{})
	slow := startCounting(t, func(r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	fast1 := upstreamtest.Start(t, upstream.Config{})
	fast2 := upstreamtest.Start(t, upstream.Config{})
	var urls []string
	for i := range 30 {
		urls = append(urls, fmt.Sprintf("%s/s/%d", slow.URL, i))
	}
	for i := range 60 {
		urls = append(urls, fmt.Sprintf("%s/f/%d", fast1.URL(), i), fmt.Sprintf("%s/f/%d", fast2.URL(), i))
	}
	client := newClient(t, fetch.Config{Concurrency: 8, PerHost: 2, ReadAhead: 200})
	fast, slowBefore := 0, 0
	for r := range client.Run(context.Background(), requests(urls...)) {
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		if strings.HasPrefix(r.URL, slow.URL) {
			if fast < 120 {
				slowBefore++
			}
			continue
		}
		if fast++; fast == 120 {
			close(release) // every fast input came while the slow host held its 2
		}
	}
	if fast != 120 || slowBefore != 0 {
		t.Fatalf("%d fast records, %d slow ones before the last fast one: the slow host held the others back", fast, slowBefore)
	}
	if most := slow.Most(); most > 2 {
		t.Errorf("the slow host saw %d requests at once, limit 2", most)
	}
	for name, s := range map[string]*upstream.Server{"fast1": fast1, "fast2": fast2} {
		for host, n := range s.Stats().MaxConcurrent {
			if n > 2 {
				t.Errorf("%s (%s) saw %d requests at once, limit 2", name, host, n)
			}
		}
	}
}

func TestRateLimitHoldsAtHighConcurrency(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Concurrency: 200, Rate: 100})
	var urls []string
	for i := range 101 {
		urls = append(urls, fmt.Sprintf("%s/r/%d", srv.URL(), i))
	}
	start := time.Now()
	n := len(collect(client, requests(urls...)))
	// 101 requests at 100/s with a burst of 1 need at least 1 s.
	if elapsed := time.Since(start); n != 101 || elapsed < time.Second {
		t.Fatalf("%d records in %v: the rate limit of 100/s did not hold", n, elapsed)
	}
}

func TestPerHostRate(t *testing.T) {
	t.Parallel()
	a := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Concurrency: 50, PerHostRate: 20})
	var urls []string
	for i := range 21 {
		urls = append(urls, fmt.Sprintf("%s/r/%d", a.URL(), i))
	}
	start := time.Now()
	collect(client, requests(urls...))
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Fatalf("21 requests to one host at 20/s took %v", elapsed)
	}
}

func TestOrdered(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	var urls []string
	for i := range 50 {
		urls = append(urls, fmt.Sprintf("%s/o/%d?latency=%dms", srv.URL(), i, (i*37)%20))
	}
	client := newClient(t, fetch.Config{Concurrency: 10, Ordered: true})
	var lines []int
	for r := range client.Run(context.Background(), requests(urls...)) {
		lines = append(lines, r.Line)
	}
	if !slices.IsSorted(lines) || len(lines) != 50 {
		t.Fatalf("ordered run yielded lines %v", lines)
	}
}

func TestHeadNoContentNotModified(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{BodySize: 100})
	client := newClient(t, fetch.Config{Body: fetch.BodyText})
	for _, c := range []struct {
		method, query string
		status        int
	}{{"HEAD", "", 200}, {"GET", "?status=204", 204}, {"GET", "?status=304", 304}} {
		rec := client.Do(context.Background(), fetch.Request{Line: 1, Method: c.method, URL: srv.URL() + "/h" + c.query})
		if rec.Status != c.status || rec.Error != nil || rec.Bytes != 0 {
			t.Errorf("%s %s: %+v", c.method, c.query, rec)
		}
	}
}

func TestBodyPolicies(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	ctx := context.Background()
	echo := srv.URL() + "/e?echo=1"
	text := newClient(t, fetch.Config{Body: fetch.BodyText})
	rec := text.Do(ctx, fetch.Request{Line: 1, Method: "POST", URL: echo, Body: []byte("hello")})
	if rec.Error != nil || !strings.HasPrefix(string(rec.Body), "{") || !strings.Contains(string(rec.Body), "hello") {
		t.Fatalf("a JSON body kept as text should be embedded as JSON: %s", rec.Body)
	}
	head := newClient(t, fetch.Config{Body: fetch.BodyHead, BodyHead: 10})
	rec = head.Do(ctx, fetch.Request{Line: 1, URL: srv.URL() + "/b?size=1000"})
	if !rec.Truncated || len(rec.Body) != 12 || rec.Bytes != 1000 {
		t.Fatalf("head of 10: body %s, truncated %v, bytes %d", rec.Body, rec.Truncated, rec.Bytes)
	}
	dir := t.TempDir()
	save := newClient(t, fetch.Config{Body: fetch.BodyDir, BodyDir: dir})
	rec = save.Do(ctx, fetch.Request{Line: 7, URL: srv.URL() + "/b?size=5000"})
	if rec.BodyFile == "" || rec.Bytes != 5000 {
		t.Fatalf("dir policy: %+v", rec)
	}
	hash := newClient(t, fetch.Config{})
	rec2 := hash.Do(ctx, fetch.Request{Line: 1, URL: srv.URL() + "/b?size=5000"})
	if rec2.SHA256 != rec.SHA256 || rec2.Body != nil {
		t.Fatalf("hash policy: %+v", rec2)
	}
	gz := hash.Do(ctx, fetch.Request{Line: 1, URL: srv.URL() + "/b?size=5000&gzip=1"})
	if gz.Bytes != 5000 || gz.SHA256 != rec.SHA256 {
		t.Fatalf("a gzip body should be decoded: %+v", gz)
	}
}

func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	client := newClient(t, fetch.Config{Concurrency: 1, Retries: -1, BreakAfter: 3})
	var urls []string
	for i := range 10 {
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:1/%d", i))
	}
	got := collect(client, requests(urls...))
	var kinds []fetch.Kind
	for i := 1; i <= 10; i++ {
		kinds = append(kinds, kindOf(got[i]))
	}
	want := []fetch.Kind{"connect", "connect", "connect", "circuit_open", "circuit_open", "circuit_open", "circuit_open", "circuit_open", "circuit_open", "circuit_open"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("kinds %v", kinds)
	}
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Retries: 10, RetryBase: 100 * time.Millisecond, Deadline: 500 * time.Millisecond})
	rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: srv.URL() + "/d?status=503"})
	// Retries stop at the deadline: with the last 503 when the next back-off
	// would pass it, or as a deadline error when it passes mid-attempt.
	if rec.Attempts < 2 || rec.Attempts > 10 || (rec.Status != 503 && kindOf(rec) != fetch.KindDeadline) {
		t.Fatalf("deadline: %+v", rec)
	}
	rec = client.Do(context.Background(), fetch.Request{Line: 1, URL: srv.URL() + "/d?hang=1"})
	if kindOf(rec) != fetch.KindDeadline {
		t.Fatalf("a hang past the deadline: %+v", rec)
	}
}

func TestCancelledRun(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Concurrency: 4})
	ctx, cancel := context.WithCancel(context.Background())
	var urls []string
	for i := range 100 {
		urls = append(urls, fmt.Sprintf("%s/c/%d?hang=1", srv.URL(), i))
	}
	// Cancel once the 4 requests are in flight at the upstream (a fixed
	// wait was too short on a loaded machine).
	go func() {
		for srv.Stats().InFlight < 4 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	n := 0
	for r := range client.Run(ctx, requests(urls...)) {
		n++
		if kindOf(r) != fetch.KindCanceled {
			t.Fatalf("record %+v", r)
		}
	}
	if n != 4 {
		t.Fatalf("%d records after cancelling 4 requests in flight", n)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, cfg := range []fetch.Config{{Concurrency: -1}, {Body: "xml"}, {Body: fetch.BodyDir}, {PerHost: -2}} {
		if _, err := fetch.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	_ = errors.New
}

// With redirects off (MaxRedirects -1) the 302 itself is the record.
func TestNoRedirectsRecordsThe302(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	noRedirects := newClient(t, fetch.Config{MaxRedirects: -1})
	if rec := noRedirects.Do(context.Background(), fetch.Request{Line: 1, URL: srv.URL() + "/r?redirect=1"}); rec.Status != 302 || kindOf(rec) != "" {
		t.Errorf("no redirects: the 302 itself should be the record: %+v", rec)
	}
}

// A Host header sets the request's host.
func TestHostHeaderSetsHost(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	text := newClient(t, fetch.Config{Body: fetch.BodyText})
	rec := text.Do(context.Background(), fetch.Request{Line: 1, URL: srv.URL() + "/h?echo=1", Header: map[string][]string{"Host": {"vhost.example"}}})
	if !strings.Contains(string(rec.Body), `"host":"vhost.example"`) {
		t.Errorf("a Host header should set the request's host: %s", rec.Body)
	}
}

// A port out of range is bad input: no attempt is made.
func TestPortOutOfRangeIsBadInput(t *testing.T) {
	t.Parallel()
	client := newClient(t, fetch.Config{})
	if rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: "http://127.0.0.1:99999/"}); kindOf(rec) != fetch.KindBadInput || rec.Attempts != 0 {
		t.Errorf("port 99999: %+v", rec)
	}
}

// An input whose rate wait would outlast the deadline ends deadline.
func TestRateWaitPastDeadline(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	slow := newClient(t, fetch.Config{PerHostRate: 0.1, Deadline: time.Second})
	var kinds []fetch.Kind
	for r := range slow.Run(context.Background(), requests(srv.URL()+"/a", srv.URL()+"/b")) {
		kinds = append(kinds, kindOf(r))
	}
	slices.Sort(kinds)
	if !slices.Equal(kinds, []fetch.Kind{"", fetch.KindDeadline}) {
		t.Errorf("a rate wait past the deadline: kinds %v, want one ok and one deadline", kinds)
	}
}

// New refuses negative body sizes.
func TestNewRefusesNegativeSizes(t *testing.T) {
	t.Parallel()
	for _, cfg := range []fetch.Config{{Body: fetch.BodyHead, BodyHead: -1}, {MaxBody: -5}} {
		if _, err := fetch.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a negative size", cfg)
		}
	}
}

func TestStoppedDuringBackoffIsCanceled(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Retries: 3, RetryBase: 10 * time.Second, RetryMax: 10 * time.Second})
	ctx, cancel := context.WithCancel(context.Background()) // no deadline: the back-off starts
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel)
	rec := client.Do(ctx, fetch.Request{Line: 1, URL: srv.URL() + "/b?status=503"})
	if kindOf(rec) != fetch.KindCanceled || rec.Status != 503 || rec.Attempts != 1 {
		t.Fatalf("stopped during back-off: %+v", rec)
	}
}

// Once StopStarting's channel is closed, no request is sent: inputs
// waiting for their host's slot end canceled, the one in flight finishes.
func TestStopStarting(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Concurrency: 8, PerHost: 1})
	urls := make([]string, 20)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/s/%d?latency=300ms", srv.URL(), i)
	}
	stop := make(chan struct{})
	go func() {
		for srv.Stats().Requests == 0 {
			time.Sleep(time.Millisecond)
		}
		close(stop)
	}()
	ok, canceled := 0, 0
	for rec := range client.Run(context.Background(), requests(urls...), fetch.StopStarting(stop)) {
		switch {
		case rec.Error == nil:
			ok++
		case rec.Error.Kind == fetch.KindCanceled && rec.Attempts == 0:
			canceled++
		default:
			t.Errorf("line %d: %+v", rec.Line, rec.Error)
		}
	}
	if ok != 1 || canceled != 19 || srv.Stats().Requests != 1 {
		t.Fatalf("%d ok, %d canceled, %d requests sent; want 1, 19, 1", ok, canceled, srv.Stats().Requests)
	}
}

// countingServer is a server on 127.0.0.1 that counts the requests in
// progress at once, whatever their Host; each waits in hold before it
// answers.
type countingServer struct {
	*httptest.Server
	mu             sync.Mutex
	inFlight, most int
}

// startCounting starts a countingServer, closed when the test ends.
func startCounting(t *testing.T, hold func(*http.Request)) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.inFlight++
		s.most = max(s.most, s.inFlight)
		s.mu.Unlock()
		defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
		hold(r)
	}))
	t.Cleanup(s.Close)
	return s
}

// Most returns the most requests that were in progress at once.
func (s *countingServer) Most() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.most
}
