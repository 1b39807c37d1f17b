package fetch

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An invalid host name is bad input: nothing is resolved, nothing sent.
func TestInvalidHostNotResolved(t *testing.T) {
	c, err := New(Config{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var lookups atomic.Int32
	var looked atomic.Value
	c.resolver.lookup = func(ctx context.Context, host string) ([]string, error) {
		lookups.Add(1)
		looked.Store(host)
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	for _, u := range []string{
		"http://:18080/", "http://<script>/", "http://a..b/", "http://-a.example/", "http://a-.example/x",
		"http://a b/", "http://999.1.1.1/", "http://" + strings.Repeat("a", 64) + ".example/",
		"http://%3Cx%3E/", "http://a*b/", "http://[::1/", "http://[zz::1]/",
	} {
		rec := c.Do(context.Background(), Request{Line: 1, URL: u})
		if rec.Error == nil || rec.Error.Kind != KindBadInput || rec.Attempts != 0 {
			t.Errorf("%q: %+v, want bad_input with no attempt", u, rec)
		}
	}
	if n := lookups.Load(); n != 0 {
		t.Fatalf("%d lookups for invalid hosts (last %v)", n, looked.Load())
	}
	// Valid names are looked up (here: not found, a dns error).
	for _, u := range []string{"http://good.example/", "http://under_score.example/", "http://bücher.example/", "http://trailing.dot.example./"} {
		rec := c.Do(context.Background(), Request{Line: 1, URL: u})
		if rec.Error == nil || rec.Error.Kind != KindDNS {
			t.Errorf("%q: %+v, want a dns error", u, rec)
		}
	}
	if n := lookups.Load(); n != 4 {
		t.Fatalf("%d lookups for 4 valid hosts", n)
	}
}

// A CR or LF in a header (or a bad name, or a bad method) is bad input:
// attempts 0, nothing sent.
func TestHeaderInjectionIsBadInput(t *testing.T) {
	c, got := clientToWire(t, Config{Retries: -1})
	for _, req := range []Request{
		{Line: 1, URL: "http://h/", Header: http.Header{"X-A": {"a\r\nInjected: 1"}}},
		{Line: 2, URL: "http://h/", Header: http.Header{"X-A": {"a\nb"}}},
		{Line: 3, URL: "http://h/", Header: http.Header{"Bad Name": {"v"}}},
		{Line: 4, URL: "http://h/", Header: http.Header{"Host": {"h\r\nX: y"}}},
		{Line: 5, URL: "http://h/", Method: "GET /x"},
	} {
		rec := c.Do(context.Background(), req)
		if rec.Error == nil || rec.Error.Kind != KindBadInput || rec.Attempts != 0 {
			t.Errorf("line %d: %+v, want bad_input with attempts 0", req.Line, rec)
		}
	}
	select {
	case have := <-got:
		t.Errorf("a request was sent: %q", have[0])
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := New(Config{Header: http.Header{"X": {"a\r\nb"}}}); err == nil {
		t.Error("New accepted a header value with CR LF")
	}
}

// A URL without a scheme says so, not Go's parse error.
func TestMissingSchemeMessage(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, u := range []string{"example.com/x", "localhost:8080/x", "example.com:8080", "//example.com/x"} {
		rec := c.Do(context.Background(), Request{Line: 1, URL: u})
		if rec.Error == nil || rec.Error.Kind != KindBadInput || !strings.Contains(rec.Error.Message, "missing http:// or https://") {
			t.Errorf("%q: %+v", u, rec.Error)
		}
	}
}
