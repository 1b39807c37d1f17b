package fetch_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
)

// A upstreamCounter is a local server that counts the connections made to
// it and the requests it answered.
type upstreamCounter struct {
	*httptest.Server
	addr            string // 127.0.0.1:port
	conns, requests atomic.Int64
}

func startUpstreamCounter(t *testing.T, h http.HandlerFunc) *upstreamCounter {
	t.Helper()
	s := &upstreamCounter{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	s.addr = s.Listener.Addr().String()
	return s
}

// untouched fails the test if anything reached s.
func (s *upstreamCounter) untouched(t *testing.T) {
	t.Helper()
	if n, c := s.requests.Load(), s.conns.Load(); n != 0 || c != 0 {
		t.Fatalf("the forbidden server got %d requests over %d connections", n, c)
	}
}

// allowPair starts a forbidden server and an allowed one, whose redirects
// lead to the forbidden one (another port of the same host), to another
// name of the allowed one, or stay on it.
func allowPair(t *testing.T) (allowed, forbidden *upstreamCounter) {
	forbidden = startUpstreamCounter(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("secret")) })
	allowed = startUpstreamCounter(t, func(w http.ResponseWriter, r *http.Request) {
		_, port, _ := net.SplitHostPort(r.Host)
		switch r.URL.Path {
		case "/to-forbidden":
			http.Redirect(w, r, "http://"+forbidden.addr+"/x", http.StatusFound)
		case "/to-forbidden-userinfo":
			http.Redirect(w, r, "http://user:s3cret@"+forbidden.addr+"/x", http.StatusFound)
		case "/to-localhost": // the same server under another name
			http.Redirect(w, r, "http://localhost:"+port+"/ok", http.StatusFound)
		case "/relative":
			w.Header().Set("Location", "/ok")
			w.WriteHeader(http.StatusFound)
		case "/absolute-upper": // the allowed host, written otherwise
			http.Redirect(w, r, "HTTP://127.0.0.1:0"+port+"/ok", http.StatusMovedPermanently)
		default:
			w.Write([]byte("ok " + r.URL.EscapedPath()))
		}
	})
	return allowed, forbidden
}

func allowClient(t *testing.T, allowed *upstreamCounter, cfg fetch.Config) *fetch.Client {
	t.Helper()
	cfg.AllowHosts = append(cfg.AllowHosts, "http://"+allowed.addr)
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	cfg.RetryBase = time.Millisecond
	return newClient(t, cfg)
}

// URLs built from strings as a user would, aimed at the forbidden server
// or at the allowed one under another name: none reaches anything.
func TestAllowHostsRefusesEveryOtherHost(t *testing.T) {
	t.Parallel()
	allowed, forbidden := allowPair(t)
	c := allowClient(t, allowed, fetch.Config{})
	A, F := allowed.addr, forbidden.addr
	_, pa, _ := net.SplitHostPort(A)
	_, pf, _ := net.SplitHostPort(F)
	notAllowed := func(host string) string { return "host " + host + " is not among the allowed upstreams" }
	for _, tc := range []struct {
		url  string
		kind fetch.Kind
		msg  string // the exact message, or "" for a bad_input one (net/url's)
	}{
		{"http://" + F + "/x", fetch.KindForbiddenHost, notAllowed("http://" + F)},
		{"https://" + A + "/x", fetch.KindForbiddenHost, notAllowed("https://" + A)}, // another scheme
		{"http://" + A + "@" + F + "/", fetch.KindForbiddenHost, notAllowed("http://" + F)},
		{"http://user:s3cret@" + F + "/", fetch.KindForbiddenHost, notAllowed("http://" + F)},
		{"http://" + F + "#@" + A + "/", fetch.KindForbiddenHost, notAllowed("http://" + F)},
		{"http://" + F + "?@" + A + "/", fetch.KindForbiddenHost, notAllowed("http://" + F)},
		{"http://" + A + "%2F@" + F + "/", fetch.KindForbiddenHost, notAllowed("http://" + F)},
		{"http://" + A + "%40" + F + "/", fetch.KindBadInput, ""}, // port "pa@127.0.0.1:pf"
		{"http://localhost:" + pa + "/", fetch.KindForbiddenHost, notAllowed("http://localhost:" + pa)},
		{"http://LOCALHOST:" + pf + "/", fetch.KindForbiddenHost, notAllowed("http://localhost:" + pf)},
		{"HTTP://127.0.0.1:" + pf + "/", fetch.KindForbiddenHost, notAllowed("http://" + F)},
		{"http://[::1]:" + pa + "/", fetch.KindForbiddenHost, notAllowed("http://[::1]:" + pa)},
		{"http://[::ffff:127.0.0.1]:" + pa + "/", fetch.KindForbiddenHost, notAllowed("http://[::ffff:127.0.0.1]:" + pa)},
		{"http://127.0.0.1:0" + pf + "/", fetch.KindForbiddenHost, notAllowed("http://" + F)},
		{"http://127.1:" + pa + "/", fetch.KindBadInput, ""},           // not an IPv4 address, nor a name
		{"http://127.0.0.1.:" + pa + "/", fetch.KindBadInput, ""},      // a trailing dot
		{"http://127.0.0.1.:" + pf + "/", fetch.KindBadInput, ""},      // a trailing dot
		{"http://" + A + "." + F + "/", fetch.KindBadInput, ""},        // port "pa.127.0.0.1:pf"
		{"http://" + A + ".localhost/", fetch.KindBadInput, ""},        // port "pa.localhost"
		{"http://" + A + `\@` + F + "/", fetch.KindBadInput, ""},       // a '\' in the userinfo
		{"http://%31%32%37.0.0.1:" + pf + "/", fetch.KindBadInput, ""}, // percent-encoded ASCII in a host
		{"http://127.0.0.1%3A" + pf + "/", fetch.KindBadInput, ""},
	} {
		rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: tc.url})
		if kindOf(rec) != tc.kind || rec.Attempts != 0 || len(rec.Retries) != 0 {
			t.Errorf("%s: want %s, not sent, got %+v %+v", tc.url, tc.kind, rec, rec.Error)
			continue
		}
		if tc.msg != "" && rec.Error.Message != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.url, rec.Error.Message, tc.msg)
		}
		if strings.Contains(rec.Error.Message, "s3cret") || (tc.kind == fetch.KindForbiddenHost && strings.Contains(rec.Error.Message, "@")) {
			t.Errorf("%s: the message leaks the userinfo: %q", tc.url, rec.Error.Message)
		}
	}
	forbidden.untouched(t)
	if n := allowed.requests.Load(); n != 0 {
		t.Fatalf("the allowed server got %d requests under names not allowed", n)
	}
}

// A path that names another host, or climbs with encoded slashes, stays on
// the allowed host; so do the allowed host's other spellings.
func TestAllowHostsKeepsRequestsOnTheAllowedHost(t *testing.T) {
	t.Parallel()
	allowed, forbidden := allowPair(t)
	c := allowClient(t, allowed, fetch.Config{})
	A, F := allowed.addr, forbidden.addr
	_, pa, _ := net.SplitHostPort(A)
	urls := []string{
		"http://" + A + "//" + F + "/x",
		"http://" + A + "/..%2F..%2F" + F + "/x",
		"http://" + A + "/a/../../" + F,
		"http://" + A + "/?next=http://" + F + "/x",
		"http://user:pw@" + A + "/",
		"http://" + F + "%2F@" + A + "/", // F in the userinfo
		"HTTP://127.0.0.1:" + pa + "/",
		"http://127.0.0.1:0" + pa + "/",
		"http://" + A + "/relative",
		"http://" + A + "/absolute-upper",
	}
	for _, u := range urls {
		rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: u})
		if rec.Error != nil || rec.Status != 200 {
			t.Errorf("%s: %+v %+v", u, rec, rec.Error)
		}
	}
	forbidden.untouched(t)
	if n, want := allowed.requests.Load(), int64(len(urls)+2); n != want { // two redirects
		t.Fatalf("the allowed server got %d requests, want %d", n, want)
	}
}

// A redirect from the allowed host to another one (another port of the
// same address, another name of the same server) fails the request, not
// retried, and nothing reaches the other host.
func TestAllowHostsRefusesRedirects(t *testing.T) {
	t.Parallel()
	allowed, forbidden := allowPair(t)
	c := allowClient(t, allowed, fetch.Config{BreakAfter: 1})
	A, F := allowed.addr, forbidden.addr
	_, pa, _ := net.SplitHostPort(A)
	for _, tc := range []struct{ path, msg string }{
		{"/to-forbidden", "redirect to http://" + F + " is not among the allowed upstreams"},
		{"/to-forbidden-userinfo", "redirect to http://" + F + " is not among the allowed upstreams"},
		{"/to-localhost", "redirect to http://localhost:" + pa + " is not among the allowed upstreams"},
	} {
		before := allowed.requests.Load()
		rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: "http://" + A + tc.path})
		if kindOf(rec) != fetch.KindForbiddenHost || rec.Error.Message != tc.msg || rec.Attempts != 1 || len(rec.Retries) != 0 {
			t.Errorf("%s: want %q once, got %+v %+v", tc.path, tc.msg, rec, rec.Error)
		}
		if n := allowed.requests.Load() - before; n != 1 {
			t.Errorf("%s: the allowed server got %d requests, want 1", tc.path, n)
		}
	}
	forbidden.untouched(t)
	// Not a connection failure: the allowed host's circuit stays closed.
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: "http://" + A + "/ok"}); rec.Error != nil {
		t.Fatalf("after refused redirects: %+v %+v", rec, rec.Error)
	}
	// With redirects not followed, the redirect is the record, as ever.
	c = allowClient(t, allowed, fetch.Config{MaxRedirects: -1})
	if rec := c.Do(context.Background(), fetch.Request{Line: 1, URL: "http://" + A + "/to-forbidden"}); rec.Error != nil || rec.Status != http.StatusFound {
		t.Fatalf("redirect not followed: %+v %+v", rec, rec.Error)
	}
	forbidden.untouched(t)
}

// Every call on the client enforces the list.
func TestAllowHostsEveryCall(t *testing.T) {
	t.Parallel()
	allowed, forbidden := allowPair(t)
	c := allowClient(t, allowed, fetch.Config{})
	ctx := context.Background()
	direct := "http://" + forbidden.addr + "/x"
	redirect := "http://" + allowed.addr + "/to-forbidden"
	want := map[string]string{
		direct:   "host http://" + forbidden.addr + " is not among the allowed upstreams",
		redirect: "redirect to http://" + forbidden.addr + " is not among the allowed upstreams",
	}
	checkErr := func(call, u string, err error) {
		t.Helper()
		var e *fetch.Error
		if !errors.As(err, &e) || e.Kind != fetch.KindForbiddenHost || e.Message != want[u] {
			t.Errorf("%s %s: got %v, want forbidden_host: %s", call, u, err, want[u])
		}
	}
	for _, u := range []string{direct, redirect} {
		if rec := c.Do(ctx, fetch.Request{URL: u}); kindOf(rec) != fetch.KindForbiddenHost {
			t.Errorf("Do %s: %+v", u, rec)
		}
		rec, resp := c.DoResponse(ctx, fetch.Request{URL: u})
		if kindOf(rec) != fetch.KindForbiddenHost || rec.Error.Message != want[u] || resp != nil {
			t.Errorf("DoResponse %s: %+v %v", u, rec, resp)
		}
		_, err := c.Get(ctx, u)
		checkErr("Get", u, err)
		_, err = c.Post(ctx, u, "text/plain", []byte("x"))
		checkErr("Post", u, err)
		_, err = c.Fetch(ctx, fetch.Request{Method: http.MethodPut, URL: u})
		checkErr("Fetch", u, err)
		_, err = fetch.GetJSON[any](ctx, c, u)
		checkErr("GetJSON", u, err)
	}
	reqs := []fetch.Request{{Line: 1, URL: direct}, {Line: 2, URL: redirect}, {Line: 3, URL: "http://" + allowed.addr + "/ok"}}
	for _, perHost := range []int{0, 2} {
		c := allowClient(t, allowed, fetch.Config{PerHost: perHost, Concurrency: 4})
		var got []fetch.Kind
		for rec := range c.Run(ctx, slices.Values(reqs), fetch.StopStarting(nil)) {
			for len(got) < rec.Line {
				got = append(got, "?")
			}
			got[rec.Line-1] = kindOf(rec)
			if rec.Line < 3 && rec.Error.Message != want[rec.URL] {
				t.Errorf("Run: %+v", rec.Error)
			}
		}
		if !slices.Equal(got, []fetch.Kind{fetch.KindForbiddenHost, fetch.KindForbiddenHost, ""}) {
			t.Errorf("Run (per-host %d): kinds %v", perHost, got)
		}
	}
	forbidden.untouched(t)
}

// Without AllowHosts every host may be requested, and redirects followed.
func TestAllowHostsEmptyAllowsEverything(t *testing.T) {
	t.Parallel()
	allowed, forbidden := allowPair(t)
	c := newClient(t, fetch.Config{})
	for _, u := range []string{"http://" + forbidden.addr + "/x", "http://" + allowed.addr + "/to-forbidden"} {
		if rec := c.Do(context.Background(), fetch.Request{URL: u}); rec.Error != nil || rec.Status != 200 {
			t.Errorf("%s: %+v %+v", u, rec, rec.Error)
		}
	}
	if n := forbidden.requests.Load(); n != 2 {
		t.Fatalf("the other server got %d requests, want 2", n)
	}
}

// The allowed hosts are matched as the engine dials them: the scheme's
// port filled in, a port's leading zeros, an IPv6 address in any of its
// spellings, a name in IDNA (punycode) form. Nothing listens on these:
// allowed, a request fails to connect (or resolve), it is not refused.
func TestAllowHostsCanonicalForms(t *testing.T) {
	t.Parallel()
	_, port, _ := net.SplitHostPort(downAddr(t))
	c := newClient(t, fetch.Config{Retries: -1, ConnectTimeout: time.Second, AllowHosts: []string{
		"http://127.0.0.1:" + port, "https://127.0.0.1", "http://[::1]:" + port, "http://BÜCHER.invalid:" + port + "/",
	}})
	for _, tc := range []struct {
		url     string
		allowed bool
	}{
		{"http://127.0.0.1:" + port + "/", true},
		{"http://127.0.0.1:00" + port + "/", true},
		{"https://127.0.0.1:443/", true},
		{"https://127.0.0.1:0443/x", true},
		{"http://127.0.0.1:443/", false},
		{"https://127.0.0.1:" + port + "/", false},
		{"http://[0:0:0:0:0:0:0:1]:" + port + "/", true},
		{"http://[0::1]:" + port + "/", true},
		{"http://[::2]:" + port + "/", false},
		{"http://xn--bcher-kva.invalid:" + port + "/", true},
		{"http://bücher.INVALID:" + port + "/", true},
		{"http://b%C3%BCcher.invalid:" + port + "/", true},
		{"http://bucher.invalid:" + port + "/", false},
		{"http://bücher.invalid.:" + port + "/", false},
	} {
		rec := c.Do(context.Background(), fetch.Request{URL: tc.url})
		refused := kindOf(rec) == fetch.KindForbiddenHost
		if refused == tc.allowed || (refused && rec.Attempts != 0) || (!refused && rec.Attempts != 1) {
			t.Errorf("%s: allowed %v, got %+v %+v", tc.url, tc.allowed, rec, rec.Error)
		}
	}
}

// New refuses an entry that is not scheme://host[:port], naming it.
func TestAllowHostsBadEntries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ entry, err string }{
		{"", `allowed upstream "": empty entry`},
		{"127.0.0.1:8080", `allowed upstream "127.0.0.1:8080": want scheme://host[:port], with the scheme http or https`},
		{"ftp://127.0.0.1", `allowed upstream "ftp://127.0.0.1": the scheme must be http or https`},
		{"http://127.0.0.1:8080/api", `allowed upstream "http://127.0.0.1:8080/api": must be scheme://host[:port] only, without a path, query or fragment`},
		{"http://127.0.0.1:8080?a=1", `allowed upstream "http://127.0.0.1:8080?a=1": must be scheme://host[:port] only, without a path, query or fragment`},
		{"http://127.0.0.1:8080?", `allowed upstream "http://127.0.0.1:8080?": must be scheme://host[:port] only, without a path, query or fragment`},
		{"http://127.0.0.1:8080#", `allowed upstream "http://127.0.0.1:8080#": must be scheme://host[:port] only, without a path, query or fragment`},
		{"http://user:pw@127.0.0.1:8080", `allowed upstream "http://user:xxxxx@127.0.0.1:8080": must not hold a user name or password`},
		{"http://127.0.0.1:99999", `allowed upstream "http://127.0.0.1:99999": port "99999" is not between 1 and 65535`},
		{"http://127.0.0.1:0", `allowed upstream "http://127.0.0.1:0": port "0" is not between 1 and 65535`},
		{"http://127.0.0.1:", `allowed upstream "http://127.0.0.1:": has an empty port`},
		{"http://", `allowed upstream "http://": has no host`},
		{"http:127.0.0.1", `allowed upstream "http:127.0.0.1": want scheme://host[:port], with the scheme http or https`},
		{"http://127.0.0.1.", `allowed upstream "http://127.0.0.1.": host "127.0.0.1." is not a valid host name or IP address`},
		{"http://exa mple.com", `allowed upstream "http://exa mple.com": does not parse: invalid character " " in host name`},
		{"http://u:p@ss@[::1", `allowed upstream (not shown: it holds an '@'): does not parse: missing ']' in host`},
	} {
		_, err := fetch.New(fetch.Config{AllowHosts: []string{"http://127.0.0.1:8080", tc.entry}})
		if err == nil || err.Error() != tc.err {
			t.Errorf("%q: got %v, want %s", tc.entry, err, tc.err)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:8080", "https://api.example.com", "http://h/", " http://[::1]:8080 ", "http://[fe80::1%25eth0]:80", "http://bücher.example"} {
		if _, err := fetch.New(fetch.Config{AllowHosts: []string{ok}}); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

// forbidden_host is one of the kinds.
func TestForbiddenHostIsAKind(t *testing.T) {
	if !slices.Contains(fetch.Kinds(), fetch.KindForbiddenHost) || !fetch.KnownKind("forbidden_host") {
		t.Fatal(fetch.Kinds())
	}
}

// A Host header naming another host is refused as the URL's host would be:
// a shared front would route the request to that host.
func TestAllowHostsChecksTheHostHeader(t *testing.T) {
	t.Parallel()
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	defer srv.Close()
	c := newClient(t, fetch.Config{AllowHosts: []string{srv.URL}, Retries: -1})
	host := strings.TrimPrefix(srv.URL, "http://")
	for hdr, want := range map[string]string{
		"":                    "",
		host:                  "",
		"admin.internal.corp": "the Host header names http://admin.internal.corp:80, which is not among the allowed upstreams",
		"127.0.0.1:1":         "the Host header names http://127.0.0.1:1, which is not among the allowed upstreams",
		"x@" + host:           "the Host header is not a host name: it would name another host than the URL's",
	} {
		h := http.Header{}
		if hdr != "" {
			h.Set("Host", hdr)
		}
		rec := c.Do(context.Background(), fetch.Request{URL: srv.URL + "/x", Header: h})
		msg := ""
		if rec.Error != nil {
			msg = rec.Error.Message
			if rec.Error.Kind != fetch.KindForbiddenHost {
				t.Errorf("Host %q: kind %s", hdr, rec.Error.Kind)
			}
		}
		if msg != want {
			t.Errorf("Host %q: %q, want %q", hdr, msg, want)
		}
	}
	if got.Load() != 2 {
		t.Errorf("the server got %d requests, want the 2 allowed", got.Load())
	}
}
