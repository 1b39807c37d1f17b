package fetch_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
)

// hostile starts a raw TCP server on loopback that reads each request's
// head, records its request line, and hands the connection to reply,
// which writes what it likes; the connection is closed after it. It
// returns the server's base URL and the request lines seen.
func hostile(t *testing.T, reply func(c net.Conn, requestLine string)) (string, func() []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				br := bufio.NewReader(c)
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				for {
					h, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if h == "\r\n" {
						break
					}
				}
				line = strings.TrimRight(line, "\r\n")
				mu.Lock()
				lines = append(lines, line)
				mu.Unlock()
				reply(c, line)
			})
		}
	})
	return "http://" + ln.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
}

// writes returns a reply that writes s and closes the connection.
func writes(s string) func(net.Conn, string) {
	return func(c net.Conn, _ string) { io.WriteString(c, s) }
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.Bytes()
}

// Every fault of a hostile upstream gets its own kind, never "other":
// responses that are not valid HTTP are bad_response (a status outside
// 100-999, a Location that does not parse or leads nowhere, corrupt or
// truncated gzip, conflicting or bad Content-Length, oversized headers, a
// body shorter than its Content-Length); a connection reset is reset.
func TestHostileUpstreamKinds(t *testing.T) {
	t.Parallel()
	good := gzipped(strings.Repeat("hello gzip ", 100))
	badSum := bytes.Clone(good)
	badSum[len(badSum)-6] ^= 0xFF // the CRC-32 in the trailer
	cases := []struct {
		name  string
		reply func(net.Conn, string)
		kind  fetch.Kind
	}{
		{"status 000", writes("HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n"), fetch.KindBadResponse},
		{"status 042", writes("HTTP/1.1 042 Small\r\nContent-Length: 0\r\n\r\n"), fetch.KindBadResponse},
		{"status line", writes("HTTPX/1.1 200 OK\r\n\r\n"), fetch.KindBadResponse},
		{"header line", writes("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n"), fetch.KindBadResponse},
		{"headers cut", writes("HTTP/1.1 200 OK\r\nContent-Le"), fetch.KindBadResponse},
		{"Location unparseable", writes("HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n"), fetch.KindBadResponse},
		{"Location bad escape", writes("HTTP/1.1 301 Moved\r\nLocation: /%zz\r\nContent-Length: 0\r\n\r\n"), fetch.KindBadResponse},
		{"Location ftp", writes("HTTP/1.1 302 Found\r\nLocation: ftp://example.com/x\r\nContent-Length: 0\r\n\r\n"), fetch.KindBadResponse},
		{"Location bad host", writes("HTTP/1.1 302 Found\r\nLocation: http://<script>/x\r\nContent-Length: 0\r\n\r\n"), fetch.KindBadResponse},
		{"gzip garbage", writes("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\nnot gzip!!"), fetch.KindBadResponse},
		{"gzip checksum", writes(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(badSum), badSum)), fetch.KindBadResponse},
		{"gzip truncated", writes(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(good)/2, good[:len(good)/2])), fetch.KindBadResponse},
		{"two Content-Lengths", writes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"), fetch.KindBadResponse},
		{"bad Content-Length", writes("HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\nhello"), fetch.KindBadResponse},
		{"oversized headers", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\n")
			pad := "X-Pad: " + strings.Repeat("p", 1000) + "\r\n"
			for range 11 << 10 { // 11 MB: net/http's limit is 10 MB
				if _, err := io.WriteString(c, pad); err != nil {
					return
				}
			}
		}, fetch.KindBadResponse},
		{"chunked malformed", writes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"), fetch.KindBadResponse},
		{"chunked cut", writes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nhel"), fetch.KindBadResponse},
		{"body short", writes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"), fetch.KindBadResponse},
		{"body reset", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
			time.Sleep(50 * time.Millisecond)
			c.(*net.TCPConn).SetLinger(0) // Close sends a RST
		}, fetch.KindReset},
		{"closed without a response", writes(""), fetch.KindReset},
	}
	client := newClient(t, fetch.Config{Retries: -1, Concurrency: 4, HeaderTimeout: 5 * time.Second, AttemptTimeout: 10 * time.Second})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base, _ := hostile(t, tc.reply)
			rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: base + "/x"})
			if kindOf(rec) != tc.kind {
				t.Errorf("kind %q (%+v), want %q", kindOf(rec), rec.Error, tc.kind)
			}
			if tc.kind == fetch.KindBadResponse && rec.Status != 0 && rec.Status != 200 && rec.Status != 301 && rec.Status != 302 {
				t.Errorf("status %d", rec.Status)
			}
		})
	}
}

// A body cut short says how much of its Content-Length came.
func TestTruncatedBodyMessage(t *testing.T) {
	t.Parallel()
	base, _ := hostile(t, writes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"))
	client := newClient(t, fetch.Config{Retries: -1})
	rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: base + "/x"})
	if kindOf(rec) != fetch.KindBadResponse || !strings.Contains(rec.Error.Message, "5 of 100") || rec.Status != 200 {
		t.Fatalf("%+v", rec)
	}
}

// A redirect's target is encoded as the input is: no raw space on the
// wire.
func TestRedirectTargetEncoded(t *testing.T) {
	t.Parallel()
	base, lines := hostile(t, func(c net.Conn, line string) {
		if strings.HasPrefix(line, "GET /start ") {
			io.WriteString(c, "HTTP/1.1 302 Found\r\nLocation: /next?q=two words\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		}
		io.WriteString(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
	})
	client := newClient(t, fetch.Config{Retries: -1})
	rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: base + "/start"})
	if rec.Error != nil || rec.Status != 204 {
		t.Fatalf("%+v", rec)
	}
	got := lines()
	if len(got) != 2 || got[1] != "GET /next?q=two%20words HTTP/1.1" {
		t.Fatalf("request lines %q", got)
	}
	if rec.FinalURL != base+"/next?q=two%20words" {
		t.Fatalf("final_url %q", rec.FinalURL)
	}
}

// A deadline of the caller's context is a deadline, not a cancellation;
// timeout messages say what fired once.
func TestCallerDeadlineAndTimeoutMessages(t *testing.T) {
	t.Parallel()
	hang := func(c net.Conn, _ string) { io.Copy(io.Discard, c) }
	base, _ := hostile(t, hang)
	client := newClient(t, fetch.Config{Retries: -1, Concurrency: 2, PerHost: 1})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rec := client.Do(ctx, fetch.Request{Line: 1, URL: base + "/d"})
	if kindOf(rec) != fetch.KindDeadline || rec.Error.Message != "the context's deadline passed" {
		t.Errorf("Do with a caller's deadline: %+v", rec.Error)
	}

	// Run: the input in flight and the one waiting for its host's slot.
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(200*time.Millisecond))
	defer cancel()
	for rec := range client.Run(ctx, requests(base+"/1", base+"/2")) {
		if kindOf(rec) != fetch.KindDeadline {
			t.Errorf("Run with a caller's deadline, line %d: %+v", rec.Line, rec.Error)
		}
	}

	short := newClient(t, fetch.Config{Retries: -1, AttemptTimeout: 100 * time.Millisecond})
	rec = short.Do(context.Background(), fetch.Request{Line: 1, URL: base + "/t"})
	if kindOf(rec) != fetch.KindTimeoutTotal || rec.Error.Message != "the attempt timeout of 100ms passed before the response" {
		t.Errorf("attempt timeout: %+v", rec.Error)
	}
	deadline := newClient(t, fetch.Config{Retries: -1, Deadline: 100 * time.Millisecond})
	rec = deadline.Do(context.Background(), fetch.Request{Line: 1, URL: base + "/t"})
	if kindOf(rec) != fetch.KindDeadline || rec.Error.Message != "the input's deadline of 100ms passed" {
		t.Errorf("input deadline: %+v", rec.Error)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	rec = client.Do(ctx, fetch.Request{Line: 1, URL: base + "/c"})
	if kindOf(rec) != fetch.KindCanceled || rec.Error.Message != "canceled: context canceled" {
		t.Errorf("canceled: %+v", rec.Error)
	}
}

// TLS faults keep their kinds now that they are told by type and phase,
// not by message: an untrusted certificate, a server that does not speak
// TLS, a handshake that never ends.
func TestTLSFaultKinds(t *testing.T) {
	t.Parallel()
	untrusted := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer untrusted.Close()
	listen := func(serve func(net.Conn)) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		t.Cleanup(func() { ln.Close(); wg.Wait() })
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Go(func() { defer c.Close(); c.SetDeadline(time.Now().Add(5 * time.Second)); serve(c) })
			}
		})
		return "https://" + ln.Addr().String() + "/x"
	}
	plain := listen(func(c net.Conn) { io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n") })
	silent := listen(func(c net.Conn) { io.Copy(io.Discard, c) }) // reads, never answers
	client := newClient(t, fetch.Config{Retries: -1})
	short := newClient(t, fetch.Config{Retries: -1, TLSTimeout: 200 * time.Millisecond})
	for _, tc := range []struct {
		url    string
		kind   fetch.Kind
		client *fetch.Client
	}{
		{untrusted.URL + "/x", fetch.KindTLS, client},
		{plain, fetch.KindTLS, client},
		{silent, fetch.KindTimeoutTLS, short},
	} {
		rec := tc.client.Do(context.Background(), fetch.Request{Line: 1, URL: tc.url})
		if kindOf(rec) != tc.kind {
			t.Errorf("%s: %+v, want %s", tc.url, rec.Error, tc.kind)
		}
	}
}
