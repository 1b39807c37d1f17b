package fetch

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/internal/redact"
)

// wireServer accepts connections and records the request line and Host
// header of each request, answering 204.
func wireServer(t *testing.T) (net.Listener, chan [2]string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan [2]string, 100)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					host := ""
					for {
						h, err := br.ReadString('\n')
						if err != nil {
							return
						}
						h = strings.TrimRight(h, "\r\n")
						if h == "" {
							break
						}
						if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Host") {
							host = strings.TrimSpace(v)
						}
					}
					got <- [2]string{strings.TrimRight(line, "\r\n"), host}
					c.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
				}
			}()
		}
	}()
	return ln, got
}

// URLs whose request line needs nothing percent-encoded beyond what
// net/http does go on the wire as NewRequest sends them.
func TestWireSameAsNewRequest(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("http_proxy", "")
	ln, got := wireServer(t)
	defer ln.Close()
	toLn := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
	}
	urls := []string{
		"http://[::1]:8080/x",
		"http://[::1]:/x",
		"http://[fe80::1%25eth0]:80/x",
		"http://h:/x",
		"http://h:",
		"http://user:pa%20ss@h/x",
		"http://h/a%2Fb?q=%20#frag",
		"http://h/a%2fb",
		"http://h/%41%42",
		"http://h?x=1",
		"http://h#frag",
		"http://h/#frag",
		"http://h/a b",
		"http://h/ü?x=1", // a non-ASCII query is encoded: TestWireQueryPercentEncoded
		"http://H/UPPER",
		"http://h/a/../b",
		"http://h//double",
		"http://h/?",
		"http://h:80/",
		"http://h/p;x=1",
		"http://h/a:b",
		"http://h/%7Euser",
	}
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.transport.DialContext = toLn
	plain := &http.Transport{DialContext: toLn}
	defer plain.CloseIdleConnections()
	for _, raw := range urls {
		// Way 1: NewRequestWithContext with the raw URL.
		req, err := http.NewRequestWithContext(context.Background(), "GET", raw, nil)
		if err != nil {
			t.Logf("%q: NewRequest: %v", raw, err)
			continue
		}
		resp, err := plain.RoundTrip(req)
		if err != nil {
			t.Errorf("%q: plain: %v", raw, err)
			continue
		}
		resp.Body.Close()
		want := <-got
		// Way 2: the client's attempt.
		p := c.prepare(Request{URL: raw})
		if p.err != nil {
			t.Errorf("%q: prepare: %v", raw, p.err)
			continue
		}
		out := c.attempt(context.Background(), p, nil)
		if out.kind != "" {
			t.Errorf("%q: attempt: %s %s", raw, out.kind, out.message)
			continue
		}
		var have [2]string
		select {
		case have = <-got:
		case <-time.After(time.Second):
			t.Errorf("%q: nothing received", raw)
			continue
		}
		rec := Record{URL: raw}
		out.fill(&rec)
		if have != want {
			t.Errorf("%q: wire differs: NewRequest %q, client %q", raw, want, have)
		}
		// final_url is the URL as sent, its password masked, when that
		// differs from the input.
		wantFinal := ""
		if sent := redact.URL(req.URL.String()); sent != raw {
			wantFinal = sent
		}
		if rec.FinalURL != wantFinal {
			t.Errorf("%q: final_url %q, want %q", raw, rec.FinalURL, wantFinal)
		}
	}
}

// clientToWire returns a client whose every connection goes to the wire
// server, whatever the URL's host.
func clientToWire(t *testing.T, cfg Config) (*Client, chan [2]string) {
	t.Helper()
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("http_proxy", "")
	ln, got := wireServer(t)
	t.Cleanup(func() { ln.Close() })
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	c.transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", ln.Addr().String())
	}
	return c, got
}

// A space (and what else a browser percent-encodes) in the query or path
// never reaches the request line raw: it is encoded as the WHATWG URL
// standard says, and final_url shows what was requested.
func TestWireQueryPercentEncoded(t *testing.T) {
	c, got := clientToWire(t, Config{Retries: -1})
	for _, tc := range []struct{ url, line, final string }{
		{"http://h/p?q=two words", "GET /p?q=two%20words HTTP/1.1", "http://h/p?q=two%20words"},
		{`http://h/p?a="<x>"&b='y'`, "GET /p?a=%22%3Cx%3E%22&b=%27y%27 HTTP/1.1", "http://h/p?a=%22%3Cx%3E%22&b=%27y%27"},
		{"http://h/p?ü=ü", "GET /p?%C3%BC=%C3%BC HTTP/1.1", "http://h/p?%C3%BC=%C3%BC"},
		{"http://h/p?x={1}|%41", "GET /p?x={1}|%41 HTTP/1.1", ""},
		{"http://h/a b/%2F?q", "GET /a%20b/%2F?q HTTP/1.1", "http://h/a%20b/%2F?q"},
		{"http://h/a b?q=1 HTTP/1.1\x0bX", "", ""}, // a control character: bad input
	} {
		rec := c.Do(context.Background(), Request{Line: 1, URL: tc.url})
		if tc.line == "" {
			if rec.Error == nil || rec.Error.Kind != KindBadInput || rec.Attempts != 0 {
				t.Errorf("%q: %+v, want bad_input unsent", tc.url, rec)
			}
			continue
		}
		if rec.Error != nil {
			t.Errorf("%q: %+v", tc.url, rec.Error)
			continue
		}
		var have [2]string
		select {
		case have = <-got:
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: nothing received", tc.url)
		}
		if have[0] != tc.line || strings.Count(have[0], " ") != 2 {
			t.Errorf("%q: request line %q, want %q", tc.url, have[0], tc.line)
		}
		if rec.FinalURL != tc.final {
			t.Errorf("%q: final_url %q, want %q", tc.url, rec.FinalURL, tc.final)
		}
	}
	select {
	case have := <-got:
		t.Errorf("unexpected request %q", have[0])
	default:
	}
}
