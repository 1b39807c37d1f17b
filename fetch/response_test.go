package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// Get returns the whole body whatever the body policy (here the default,
// hash, which keeps nothing in a Record).
func TestGetReturnsTheWholeBodyWhateverTheBodyPolicy(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	ctx := context.Background()
	for _, policy := range []fetch.BodyPolicy{fetch.BodyHash, fetch.BodyHead, fetch.BodyDir} {
		c := newClient(t, fetch.Config{Body: policy, BodyHead: 10, BodyDir: t.TempDir()})
		resp, err := c.Get(ctx, srv.URL()+"/b?size=5000&gzip=1")
		if err != nil {
			t.Fatalf("%s: %v", policy, err)
		}
		plain := c.Do(ctx, fetch.Request{URL: srv.URL() + "/b?size=5000"})
		if resp.Status != 200 || len(resp.Body) != 5000 || resp.Attempts != 1 || resp.URL != srv.URL()+"/b?size=5000&gzip=1" {
			t.Fatalf("%s: status %d, %d bytes, %d attempts, URL %q", policy, resp.Status, len(resp.Body), resp.Attempts, resp.URL)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s: header %v", policy, resp.Header)
		}
		if plain.Bytes != 5000 || resp.Text() != string(resp.Body) {
			t.Errorf("%s: the text differs from the body", policy)
		}
	}
}

// A final status other than 2xx is a *StatusError with the start of the
// body, which unwraps to an *Error of kind http_status.
func TestGetNon2xxIsAStatusError(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	c := newClient(t, fetch.Config{Retries: 1, RetryBase: time.Millisecond})
	resp, err := c.Get(context.Background(), srv.URL()+"/nf?status=404&size=2000")
	var se *fetch.StatusError
	if resp != nil || !errors.As(err, &se) {
		t.Fatalf("a 404: %v, %v", resp, err)
	}
	if se.Status != 404 || se.Method != "GET" || len(se.Body) != 512 || se.URL != srv.URL()+"/nf?status=404&size=2000" || se.Header.Get("Content-Type") == "" {
		t.Errorf("status error %+v", se)
	}
	var fe *fetch.Error
	if !errors.As(err, &fe) || fe.Kind != fetch.KindHTTPStatus {
		t.Errorf("a StatusError should unwrap to an http_status *Error: %v", fe)
	}
	if want := "GET " + srv.URL() + "/nf?status=404&size=2000: 404 Not Found"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	// A 503 is retried, and still a StatusError once the retries are spent.
	_, err = c.Get(context.Background(), srv.URL()+"/u?status=503")
	if !errors.As(err, &se) || se.Status != 503 || srv.Stats().ByPath["/u"] != 2 {
		t.Errorf("a 503: %v after %d requests", err, srv.Stats().ByPath["/u"])
	}
	// With redirects off, a 302 is not a success.
	noRedirects := newClient(t, fetch.Config{MaxRedirects: -1})
	if _, err := noRedirects.Get(context.Background(), srv.URL()+"/r?redirect=1"); !errors.As(err, &se) || se.Status != 302 {
		t.Errorf("a 302 not followed: %v", err)
	}
}

// A failure is an *Error carrying its kind; errors.As finds it.
func TestGetFailureIsAnErrorWithItsKind(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	c := newClient(t, fetch.Config{Retries: -1, MaxBody: 1000, HeaderTimeout: 200 * time.Millisecond})
	ctx := context.Background()
	for _, tc := range []struct {
		url  string
		kind fetch.Kind
	}{
		{"http://127.0.0.1:1/", fetch.KindConnect},
		{srv.URL() + "/big?size=5000", fetch.KindTooLarge},
		{srv.URL() + "/reset?reset=1", fetch.KindReset},
		{srv.URL() + "/hang?hang=1", fetch.KindTimeoutHeaders},
		{"ftp://example.com/", fetch.KindBadInput},
		{"http://user:secret@127.0.0.1:1/", fetch.KindConnect},
	} {
		resp, err := c.Get(ctx, tc.url)
		var fe *fetch.Error
		if resp != nil || !errors.As(err, &fe) || fe.Kind != tc.kind {
			t.Errorf("%s: %v, %v; want kind %s", tc.url, resp, err, tc.kind)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the password: %v", tc.url, err)
		}
		if fe.Timeout() != (tc.kind == fetch.KindTimeoutHeaders) {
			t.Errorf("%s: Timeout() is %v", tc.url, fe.Timeout())
		}
	}
}

// A request that fails and then succeeds is retried by Get.
func TestGetRetriesAndHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	c := newClient(t, fetch.Config{RetryBase: time.Millisecond})
	start := time.Now()
	resp, err := c.Get(context.Background(), srv.URL()+"/x?fail_first=1&status=429&retry_after=1")
	if err != nil || resp.Attempts != 2 {
		t.Fatalf("retry then ok: %v, %+v", err, resp)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("the retry came after %v, before the Retry-After second", elapsed)
	}
}

type echoed struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

// GetJSON decodes the body into a T and asks for JSON; Post sends its
// body with its Content-Type.
func TestGetJSONAndPost(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	c := newClient(t, fetch.Config{})
	ctx := context.Background()
	got, err := fetch.GetJSON[echoed](ctx, c, srv.URL()+"/j?echo=1")
	if err != nil || got.Method != "GET" || got.Path != "/j" || got.Headers["Accept"][0] != "application/json" {
		t.Fatalf("GetJSON: %+v, %v", got, err)
	}
	if _, err := fetch.GetJSON[echoed](ctx, c, srv.URL()+"/t"); err == nil || !strings.Contains(err.Error(), srv.URL()+"/t") {
		t.Errorf("a text body decoded as JSON: %v", err)
	}
	resp, err := c.Post(ctx, srv.URL()+"/p?echo=1", "application/x-www-form-urlencoded", []byte("a=1"))
	if err != nil {
		t.Fatal(err)
	}
	var e echoed
	if err := resp.JSON(&e); err != nil || e.Method != "POST" || e.Body != "a=1" || e.Headers["Content-Type"][0] != "application/x-www-form-urlencoded" {
		t.Errorf("Post: %+v, %v", e, err)
	}
	// Fetch: any method, the request's headers with the client's.
	resp, err = c.Fetch(ctx, fetch.Request{Method: "PUT", URL: srv.URL() + "/f?echo=1", Header: http.Header{"X-A": {"b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.JSON(&e); err != nil || e.Method != "PUT" || e.Headers["X-A"][0] != "b" || e.Headers["User-Agent"][0] != "gather/0" {
		t.Errorf("Fetch: %+v, %v", e, err)
	}
	if _, err := c.Fetch(ctx, fetch.Request{URL: srv.URL(), Err: errors.New("no")}); err == nil || !strings.Contains(err.Error(), "bad_input: no") {
		t.Errorf("a request with Err: %v", err)
	}
}

// Text decodes a body from the charset its Content-Type names, or with
// none from the one its XML declaration or HTML <meta> names; any other
// body is returned as it came.
func TestResponseTextDecodesTheCharsetTheBodyIsIn(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("ct"))
		w.Write([]byte(r.URL.Query().Get("prefix") + "caf\xe9"))
	}))
	defer srv.Close()
	c := newClient(t, fetch.Config{})
	for _, c2 := range []struct{ ct, prefix, want string }{
		{"text/plain; charset=ISO-8859-1", "", "café"},
		{`text/html; charset="latin1"`, "", "café"},
		{"text/plain; charset=windows-1252", "", "café"},
		{"text/plain; charset=utf-8", "", "caf\xe9"},
		{"text/plain; charset=no-such-charset", "", "caf\xe9"},
		{"", "", "caf\xe9"},
		{"application/rss+xml", `<?xml version="1.0" encoding="ISO-8859-1"?>`, `<?xml version="1.0" encoding="ISO-8859-1"?>café`},
		{"", `<?xml version='1.0' encoding='us-ascii'?>`, `<?xml version='1.0' encoding='us-ascii'?>café`}, // us-ascii is windows-1252 to WHATWG
		{"text/html", `<meta charset="iso-8859-1">`, `<meta charset="iso-8859-1">café`},
		{"text/html", "", "café"}, // HTML with no charset: windows-1252, as browsers
	} {
		resp, err := c.Get(context.Background(), srv.URL+"/?ct="+url.QueryEscape(c2.ct)+"&prefix="+url.QueryEscape(c2.prefix))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Text(); got != c2.want {
			t.Errorf("Content-Type %q, body %q: Text() %q, want %q", c2.ct, c2.prefix, got, c2.want)
		}
	}
}

// Calls made from many goroutines share the client's limits: Concurrency
// in all, PerHost per host, whichever call made them.
func TestCallsFromManyGoroutinesShareTheClientsLimits(t *testing.T) {
	t.Parallel()
	a := upstreamtest.Start(t, upstream.Config{Latency: 30 * time.Millisecond})
	b := upstreamtest.Start(t, upstream.Config{Latency: 30 * time.Millisecond})
	c := newClient(t, fetch.Config{Concurrency: 3, PerHost: 2})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			_, err := c.Get(ctx, fmt.Sprintf("%s/a/%d", a.URL(), i))
			errs <- err
		})
		wg.Go(func() {
			rec := c.Do(ctx, fetch.Request{URL: fmt.Sprintf("%s/b/%d", b.URL(), i)})
			if rec.Error != nil {
				errs <- rec.Error
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var most int64
	for name, s := range map[string]*upstream.Server{"a": a, "b": b} {
		for _, n := range s.Stats().MaxConcurrent {
			if n > 2 {
				t.Errorf("%s saw %d requests at once, PerHost 2", name, n)
			}
			most += n
		}
	}
	if most < 2 {
		t.Errorf("at most %d requests at once: the calls did not run concurrently", most)
	}
	if l := c.Load(); l != (fetch.Load{}) {
		t.Errorf("load after the calls: %+v", l)
	}
}

// The per-call concurrency bound holds across hosts: Concurrency 2, four
// hosts, 2 requests in flight at most.
func TestCallsHonourTheClientsConcurrency(t *testing.T) {
	t.Parallel()
	srv := startCounting(t, func(*http.Request) { time.Sleep(20 * time.Millisecond) })
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	c := newClient(t, fetch.Config{Concurrency: 2})
	var wg sync.WaitGroup
	for i := range 16 {
		// 127.0.0.1 and localhost are two hosts of the client's.
		host := []string{"127.0.0.1", "localhost"}[i%2]
		wg.Go(func() {
			if _, err := c.Get(context.Background(), "http://"+host+":"+port+"/"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if most := srv.Most(); most > 2 {
		t.Errorf("%d requests at once, Concurrency 2", most)
	}
}

// A configuration a run could not honour is refused by New, as the command
// line refuses it: negative timeouts, rates that are not numbers.
func TestNewRefusesImpossibleConfigs(t *testing.T) {
	for _, cfg := range []fetch.Config{
		{ConnectTimeout: -1}, {AttemptTimeout: -time.Second}, {Deadline: -1}, {RetryBase: -1},
		{Rate: math.NaN()}, {PerHostRate: math.Inf(1)}, {Rate: -1}, {Concurrency: -1},
	} {
		if c, err := fetch.New(cfg); err == nil {
			c.Close()
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// DoResponse gives the whole response whatever its status, with the
// Record that says whether it failed.
func TestDoResponseGivesTheResponseOfAFailedStatus(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	c := newClient(t, fetch.Config{Retries: -1})
	rec, resp := c.DoResponse(context.Background(), fetch.Request{Line: 3, URL: srv.URL() + "/gone?status=404"})
	if rec.Line != 3 || rec.Status != 404 || rec.Error == nil || rec.Error.Kind != fetch.KindHTTPStatus || rec.Body != nil {
		t.Fatalf("record %+v", rec)
	}
	if resp == nil || resp.Status != 404 || string(resp.Body) != "404 Not Found /gone\n" || resp.Header.Get("X-Request-Seq") != "1" {
		t.Fatalf("response %+v", resp)
	}
	rec, resp = c.DoResponse(context.Background(), fetch.Request{URL: "http://127.0.0.1:1/refused"})
	if resp != nil || rec.Error == nil || rec.Error.Kind != fetch.KindConnect {
		t.Errorf("refused: record %+v, response %+v", rec, resp)
	}
}
