package upstream

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestDefaultBody(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	for i := 1; i <= 2; i++ {
		resp, body := get(t, c, s.URL()+"/hello/world?x=1")
		wantStatus(t, resp, body, 200)
		if string(body) != "ok /hello/world\n" {
			t.Errorf("body %q", body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
		}
		if seq := resp.Header.Get("X-Request-Seq"); seq != strconv.Itoa(i) {
			t.Errorf("request %d: X-Request-Seq %q", i, seq)
		}
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || s.URL() != "http://"+s.Addr() {
		t.Errorf("URL %q, Addr %q", s.URL(), s.Addr())
	}
}

func TestLatency(t *testing.T) {
	c := newClient(t)
	s := start(t, Config{})
	t0 := time.Now()
	resp, body := get(t, c, s.URL()+"/?latency=80ms&jitter=20ms")
	wantStatus(t, resp, body, 200)
	if d := time.Since(t0); d < 80*time.Millisecond {
		t.Errorf("latency=80ms answered after %v", d)
	}

	s2 := start(t, Config{Latency: 60 * time.Millisecond, LatencyJitter: time.Millisecond})
	t0 = time.Now()
	resp, body = get(t, c, s2.URL()+"/")
	wantStatus(t, resp, body, 200)
	if d := time.Since(t0); d < 60*time.Millisecond {
		t.Errorf("Config.Latency 60ms answered after %v", d)
	}
	// The query wins over the Config.
	resp, body = get(t, c, s2.URL()+"/?latency=0&jitter=0")
	wantStatus(t, resp, body, 200)
}

func TestStatus(t *testing.T) {
	s := start(t, Config{RetryAfter: "7"})
	c := newClient(t)
	for _, code := range []int{200, 201, 404, 418, 500, 502, 599} {
		resp, body := get(t, c, fmt.Sprintf("%s/s?status=%d", s.URL(), code))
		wantStatus(t, resp, body, code)
		want := "ok /s\n"
		if code >= 400 {
			want = fmt.Sprintf("%d %s /s\n", code, http.StatusText(code))
		}
		if string(body) != want {
			t.Errorf("status=%d: body %q, want %q", code, body, want)
		}
		if ra := resp.Header.Get("Retry-After"); (ra == "7") != (code >= 400) {
			t.Errorf("status=%d: Retry-After %q", code, ra)
		}
	}
	// status with size: the body knobs apply to failures too.
	resp, body := get(t, c, s.URL()+"/s?status=500&size=1000")
	wantStatus(t, resp, body, 500)
	if !bytes.Equal(body, pattern(1000)) {
		t.Errorf("status=500&size=1000: %d bytes", len(body))
	}
}

func TestFailFirst(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	for i := 1; i <= 4; i++ {
		resp, body := get(t, c, s.URL()+"/retry?fail_first=2&retry_after=3&q="+strconv.Itoa(i))
		want := 200
		if i <= 2 {
			want = 503
		}
		wantStatus(t, resp, body, want)
		if ra := resp.Header.Get("Retry-After"); (ra == "3") != (want == 503) {
			t.Errorf("request %d: Retry-After %q", i, ra)
		}
		if seq := resp.Header.Get("X-Request-Seq"); seq != strconv.Itoa(i) {
			t.Errorf("request %d: X-Request-Seq %q", i, seq)
		}
	}
	// The count is per path, and status sets the failure.
	for i := 1; i <= 2; i++ {
		resp, body := get(t, c, s.URL()+"/other?fail_first=1&status=429")
		wantStatus(t, resp, body, map[int]int{1: 429, 2: 200}[i])
	}
}

func TestFailFirstModes(t *testing.T) {
	s := start(t, Config{})
	c := noKeepAlive(t)
	for _, mode := range []string{"reset", "malformed"} {
		for i := 1; i <= 3; i++ {
			resp, err := c.Get(s.URL() + "/" + mode + "?fail_first=2&" + mode + "=1")
			if i <= 2 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("%s request %d: status %d, want an error", mode, i, resp.StatusCode)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s request %d: %v", mode, i, err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s request %d: status %d", mode, i, resp.StatusCode)
			}
		}
	}
	// fail_first=1&hang=1: the first attempt times out, the second answers.
	hc := &http.Client{Transport: c.Transport, Timeout: 100 * time.Millisecond}
	if resp, err := hc.Get(s.URL() + "/hang?fail_first=1&hang=1"); err == nil {
		resp.Body.Close()
		t.Fatalf("hang: status %d, want a timeout", resp.StatusCode)
	}
	resp, body := get(t, c, s.URL()+"/hang?fail_first=1&hang=1")
	wantStatus(t, resp, body, 200)
}

func TestFailRate(t *testing.T) {
	c := newClient(t)
	count := func(s *Server, query string, n int) (fails int, seq []int) {
		for range n {
			resp, _ := get(t, c, s.URL()+"/f?"+query)
			if resp.StatusCode != 200 {
				fails++
			}
			seq = append(seq, resp.StatusCode)
		}
		return fails, seq
	}
	s := start(t, Config{})
	if f, _ := count(s, "fail=0", 50); f != 0 {
		t.Errorf("fail=0: %d failures", f)
	}
	if f, _ := count(s, "fail=1&status=500", 50); f != 50 {
		t.Errorf("fail=1: %d failures of 50", f)
	}
	f, _ := count(s, "fail=0.5", 400)
	if f < 120 || f > 280 {
		t.Errorf("fail=0.5: %d failures of 400", f)
	}

	// The Config's rate, reproducible from the seed.
	s1 := start(t, Config{FailRate: 0.5, FailStatus: 502, RetryAfter: "1"})
	s2 := start(t, Config{FailRate: 0.5, FailStatus: 502, RetryAfter: "1"})
	s3 := start(t, Config{FailRate: 0.5, Seed: 42})
	_, a := count(s1, "", 64)
	_, b := count(s2, "", 64)
	_, d := count(s3, "", 64)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different outcomes:\n%v\n%v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(d) {
		t.Errorf("different seeds, same outcomes: %v", a)
	}
	for _, code := range a {
		if code != 200 && code != 502 {
			t.Fatalf("Config.FailStatus 502: got %d", code)
		}
	}
	// An explicit status overrides the Config's rate.
	if f, _ := count(s1, "status=200", 30); f != 0 {
		t.Errorf("status=200 with FailRate 0.5: %d failures", f)
	}
	resp, body := get(t, c, s1.URL()+"/?fail=1")
	wantStatus(t, resp, body, 502)
	if resp.Header.Get("Retry-After") != "1" {
		t.Errorf("Config.RetryAfter not sent: %v", resp.Header)
	}
}

func TestRetryAfter(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	date := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Format(http.TimeFormat)
	resp, body := get(t, c, s.URL()+"/?status=429&retry_after="+url.QueryEscape(date))
	wantStatus(t, resp, body, 429)
	if got := resp.Header.Get("Retry-After"); got != date {
		t.Errorf("Retry-After %q, want %q", got, date)
	}
	resp, body = get(t, c, s.URL()+"/?status=503")
	wantStatus(t, resp, body, 503)
	if got, ok := resp.Header["Retry-After"]; ok {
		t.Errorf("Retry-After %q without retry_after", got)
	}
	resp, body = get(t, c, s.URL()+"/?retry_after=5")
	wantStatus(t, resp, body, 200)
	if got, ok := resp.Header["Retry-After"]; ok {
		t.Errorf("Retry-After %q on a 200", got)
	}
	for _, bad := range []string{"soon", "-1", "1.5"} {
		resp, body = get(t, c, s.URL()+"/?status=503&retry_after="+bad)
		wantStatus(t, resp, body, 400)
	}
}

func TestBadParams(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	for _, q := range []string{
		"latency=fast", "latency=-1s", "jitter=1", "chunk_delay=x",
		"status=99", "status=600", "status=abc", "fail=2", "fail=-0.1", "fail=NaN",
		"fail_first=-1", "size=-1", "size=1k", "bomb=x", "redirect=-2",
		"gzip=yes", "loop=2", "reset=maybe", "hang=?", "malformed=no", "echo=on",
	} {
		resp, body := get(t, c, s.URL()+"/p?"+q)
		wantStatus(t, resp, body, 400)
		name, _, _ := strings.Cut(q, "=")
		if !strings.Contains(string(body), name) {
			t.Errorf("%s: body %q does not name the parameter", q, body)
		}
	}
	// Unknown parameters and bad escapes elsewhere in the query are ignored.
	resp, body := get(t, c, s.URL()+"/p?id=123&other=%zz&size=3")
	wantStatus(t, resp, body, 200)
	if len(body) != 3 {
		t.Errorf("body %q", body)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Latency: -1}, {LatencyJitter: -1}, {BodySize: -1}, {FailRate: 1.5},
		{FailRate: -1}, {FailStatus: 99}, {FailStatus: 700}, {RetryAfter: "later"},
	} {
		if s, err := Start(cfg); err == nil {
			s.Close()
			t.Errorf("Start(%+v): no error", cfg)
		}
	}
	if s, err := StartOn("127.0.0.1:-5", Config{}); err == nil {
		s.Close()
		t.Error("StartOn with a bad address: no error")
	}
}

func TestStartOnUnspecified(t *testing.T) {
	s, err := StartOn(":0", Config{})
	if err != nil {
		t.Skip("cannot listen on every interface:", err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q for %q", s.URL(), s.Addr())
	}
	resp, body := get(t, newClient(t), s.URL()+"/")
	wantStatus(t, resp, body, 200)
}

// sizeGolden is the SHA-256 of the size=100000 body: it must never change,
// so that hashes recorded by other tests and benchmarks stay valid.
const sizeGolden = "f4b4a937f3a73e16aa5af486f8420fab6020c8d1dda86b2d97cbbe66ac309946"

func TestSize(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	for _, n := range []int{0, 1, 100, 4095, 4096, 65535, 65536, 65537, 100000, 1<<20 + 7} {
		resp, body := get(t, c, fmt.Sprintf("%s/b?size=%d", s.URL(), n))
		wantStatus(t, resp, body, 200)
		if resp.ContentLength != int64(n) {
			t.Errorf("size=%d: Content-Length %d", n, resp.ContentLength)
		}
		if !bytes.Equal(body, pattern(n)) {
			t.Errorf("size=%d: %d bytes, not the pattern", n, len(body))
		}
	}
	_, body := get(t, c, s.URL()+"/b?size=100000")
	sum := sha256.Sum256(body)
	if got := hex.EncodeToString(sum[:]); got != sizeGolden {
		t.Errorf("size=100000: sha256 %s, want %s", got, sizeGolden)
	}
	// The pattern is text.
	for _, b := range patternBlock {
		if (b < 'a' || b > 'z') && b != ' ' && b != '\n' {
			t.Fatalf("pattern byte %q", b)
		}
	}
	// Config.BodySize, and size=0 in the query winning over it.
	s2 := start(t, Config{BodySize: 777})
	resp, body := get(t, c, s2.URL()+"/")
	wantStatus(t, resp, body, 200)
	if !bytes.Equal(body, pattern(777)) {
		t.Errorf("BodySize 777: %d bytes", len(body))
	}
	resp, body = get(t, c, s2.URL()+"/?size=0")
	if len(body) != 0 || resp.ContentLength != 0 {
		t.Errorf("size=0: %d bytes, Content-Length %d", len(body), resp.ContentLength)
	}
}

func TestGzip(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	for _, tc := range []struct {
		query  string
		want   []byte
		length bool
	}{
		{"gzip=1", []byte("ok /z\n"), true},
		{"gzip=1&size=0", nil, true},
		{"gzip=1&size=100000", pattern(100000), true},
		{"gzip=1&size=3000000", pattern(3000000), false},
		{"gzip=1&size=10000&chunk_delay=1ms", pattern(10000), true},
	} {
		resp, body := get(t, c, s.URL()+"/z?"+tc.query)
		wantStatus(t, resp, body, 200)
		if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
			t.Errorf("%s: Content-Encoding %q", tc.query, ce)
		}
		if tc.length != (resp.ContentLength == int64(len(body))) {
			t.Errorf("%s: Content-Length %d, %d bytes", tc.query, resp.ContentLength, len(body))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s: decoded %d bytes, want %d", tc.query, len(got), len(tc.want))
		}
		if tc.query == "gzip=1&size=100000" {
			ratio := float64(len(got)) / float64(len(body))
			t.Logf("size=100000 compresses %.2f:1", ratio)
			if ratio > 3 {
				t.Errorf("the pattern compresses %.1f:1, more than text does", ratio)
			}
		}
	}
	// A client that asks for gzip decodes it on its own.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, body := get(t, &http.Client{Transport: tr}, s.URL()+"/z?gzip=1&size=5000")
	if !resp.Uncompressed || !bytes.Equal(body, pattern(5000)) {
		t.Errorf("transparent gzip: uncompressed=%v, %d bytes", resp.Uncompressed, len(body))
	}
}

func TestBomb(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	for _, n := range []int64{0, 1, 255, 32767, 32768, 32769, 32768 + 256, 1<<20 + 12345, 3<<20 + 65536 + 4096 + 256 + 17, 24 << 20} {
		resp, body := get(t, c, fmt.Sprintf("%s/bomb?bomb=%d", s.URL(), n))
		wantStatus(t, resp, body, 200)
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength != int64(len(body)) {
			t.Fatalf("bomb=%d: Content-Encoding %q, Content-Length %d, %d bytes",
				n, resp.Header.Get("Content-Encoding"), resp.ContentLength, len(body))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("bomb=%d: %v", n, err)
		}
		got, err := io.Copy(zeroChecker{}, zr) // gzip checks the CRC and the length
		if err != nil || got != n {
			t.Fatalf("bomb=%d: decoded %d bytes, %v", n, got, err)
		}
		if n >= 1<<20 && int64(len(body)) > n/500 {
			t.Errorf("bomb=%d: %d bytes compressed, ratio %d:1", n, len(body), n/int64(len(body)))
		}
	}
	// A large bomb costs little to send and has an exact length.
	resp, err := c.Head(s.URL() + "/bomb?bomb=" + strconv.Itoa(1<<30))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ContentLength <= 0 || resp.ContentLength > 2<<20 {
		t.Errorf("bomb=1GiB: Content-Length %d", resp.ContentLength)
	}
}

// zeroChecker is a writer that fails on a non-zero byte.
type zeroChecker struct{}

func (zeroChecker) Write(p []byte) (int, error) {
	for i, b := range p {
		if b != 0 {
			return i, errors.New("non-zero byte")
		}
	}
	return len(p), nil
}

func TestCRC32Zeros(t *testing.T) {
	buf := make([]byte, 1<<20+3)
	for _, n := range []int{0, 1, 2, 3, 7, 8, 255, 256, 4096, 32768, 65537, 1 << 20, 1<<20 + 3} {
		if got, want := crc32Zeros(int64(n)), crc32.ChecksumIEEE(buf[:n]); got != want {
			t.Errorf("crc32Zeros(%d) = %08x, want %08x", n, got, want)
		}
	}
	// Far beyond what can be checked byte by byte: appending zeros agrees.
	for _, n := range []int64{1 << 32, 1<<32 + 1, 5<<40 + 12345} {
		if got, want := crc32Zeros(n+1000), crc32.Update(crc32Zeros(n), crc32.IEEETable, buf[:1000]); got != want {
			t.Errorf("crc32Zeros(%d+1000) = %08x, want %08x", n, got, want)
		}
	}
}

func TestRedirect(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	resp, body := get(t, c, s.URL()+"/r?redirect=3&size=10&tag=a%20b")
	wantStatus(t, resp, body, 200)
	if !bytes.Equal(body, pattern(10)) {
		t.Errorf("final body %q", body)
	}
	if n := s.Stats().ByPath["/r"]; n != 4 {
		t.Errorf("redirect=3: %d requests, want 4", n)
	}
	// Hop by hop.
	noFollow := &http.Client{
		Transport:     c.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	next := s.URL() + "/r?redirect=2&tag=x"
	for want := 1; want >= 0; want-- {
		resp, body = get(t, noFollow, next)
		wantStatus(t, resp, body, 302)
		loc, err := resp.Location()
		if err != nil {
			t.Fatal(err)
		}
		q := loc.Query()
		if loc.Path != "/r" || q.Get("redirect") != strconv.Itoa(want) || q.Get("tag") != "x" {
			t.Fatalf("Location %s", loc)
		}
		if ct := resp.Header.Get("Content-Type"); ct == "" {
			t.Error("redirect without Content-Type")
		}
		next = loc.String()
	}
	resp, body = get(t, noFollow, next)
	wantStatus(t, resp, body, 200)
}

func TestLoop(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	resp, err := c.Get(s.URL() + "/loop?loop=1")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("loop=1: status %d, want a redirect error", resp.StatusCode)
	}
	if !strings.Contains(err.Error(), "redirects") {
		t.Errorf("loop=1: %v", err)
	}
	if n := s.Stats().ByPath["/loop"]; n < 10 {
		t.Errorf("loop=1: %d requests", n)
	}
}

func TestReset(t *testing.T) {
	s := start(t, Config{})
	c := noKeepAlive(t)
	resp, err := c.Get(s.URL() + "/x?reset=1")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("reset=1: status %d, want an error", resp.StatusCode)
	}
	msg := err.Error()
	if !strings.Contains(msg, "reset") && !strings.Contains(msg, "EOF") {
		t.Errorf("reset=1: %v", err)
	}
	// The server is unharmed.
	resp2, body := get(t, c, s.URL()+"/x")
	wantStatus(t, resp2, body, 200)
	waitFor(t, "no request in flight", func() bool { return s.Stats().InFlight == 0 })
}

func TestMalformed(t *testing.T) {
	s := start(t, Config{})
	c := noKeepAlive(t)
	resp, err := c.Get(s.URL() + "/x?malformed=1")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("malformed=1: status %d, want an error", resp.StatusCode)
	}
	t.Log(err)
	resp2, body := get(t, c, s.URL()+"/x")
	wantStatus(t, resp2, body, 200)
}

func TestHangReleasedByClient(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/h?hang=1", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitFor(t, "the hanging request", func() bool { return s.Stats().InFlight == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("hang=1, cancelled: %v", err)
	}
	waitFor(t, "the handler to return", func() bool { return s.Stats().InFlight == 0 })

	// A latency wait is released the same way.
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/h?latency=1h", nil)
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("latency=1h answered")
	}
	waitFor(t, "the handler to return", func() bool { return s.Stats().InFlight == 0 })
}

func TestCloseReleasesWaits(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	queries := []string{"hang=1", "latency=1h", "size=100000&chunk_delay=1h", "gzip=1&size=100000&chunk_delay=1h", "bomb=10000000&chunk_delay=1h"}
	errc := make(chan error, len(queries))
	for _, q := range queries {
		go func() {
			resp, err := c.Get(s.URL() + "/w?" + q)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					err = fmt.Errorf("%s: status %d and a whole body", q, resp.StatusCode)
				} else {
					err = nil
				}
			} else {
				err = nil
			}
			errc <- err
		}()
	}
	waitFor(t, "the requests", func() bool { return s.Stats().InFlight == int64(len(queries)) })
	time.Sleep(20 * time.Millisecond) // let the slow bodies start
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range queries {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if n := s.Stats().InFlight; n != 0 {
		t.Errorf("after Close: %d in flight", n)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Closed means closed.
	if resp, err := c.Get(s.URL() + "/"); err == nil {
		resp.Body.Close()
		t.Error("a closed server answered")
	}
}

func TestChunkDelay(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	n := 3*chunkSize + 100 // four pieces, three waits
	t0 := time.Now()
	resp, body := get(t, c, fmt.Sprintf("%s/slow?size=%d&chunk_delay=30ms", s.URL(), n))
	wantStatus(t, resp, body, 200)
	if d := time.Since(t0); d < 90*time.Millisecond {
		t.Errorf("chunk_delay=30ms over 4 pieces took %v", d)
	}
	if !bytes.Equal(body, pattern(n)) || resp.ContentLength != int64(n) {
		t.Errorf("slow body: %d bytes, Content-Length %d", len(body), resp.ContentLength)
	}

	// The first piece comes at once; a client leaving mid-body frees the
	// handler.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/slow?size=1000000&chunk_delay=1h", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, chunkSize)
	if _, err := io.ReadFull(resp.Body, first); err != nil || !bytes.Equal(first, patternBlock[:chunkSize]) {
		t.Fatalf("first piece: %v", err)
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "the handler to return", func() bool { return s.Stats().InFlight == 0 })
}

func TestEcho(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		payload := `{"name":"gather","n":1}`
		if method == "GET" {
			payload = ""
		}
		req, _ := http.NewRequest(method, s.URL()+"/e/1?echo=1&a=1&a=2&b=%3C%3E", strings.NewReader(payload))
		req.Header.Set("X-Token", "secret")
		req.Header.Add("X-Multi", "one")
		req.Header.Add("X-Multi", "two")
		req.Header.Set("Content-Type", "application/json")
		resp, body := do(t, c, req)
		wantStatus(t, resp, body, 200)
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", method, ct)
		}
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("%s: Content-Length %d, %d bytes", method, resp.ContentLength, len(body))
		}
		var e echoReply
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("%s: %v in %s", method, err, body)
		}
		if e.Method != method || e.Path != "/e/1" || e.Body != payload || e.BodyBase64 != "" ||
			e.Headers.Get("X-Token") != "secret" || strings.Join(e.Headers.Values("X-Multi"), ",") != "one,two" ||
			strings.Join(e.Query["a"], ",") != "1,2" || e.Query.Get("b") != "<>" || e.Host != s.Addr() ||
			e.Proto != "HTTP/1.1" || e.RawQuery != "echo=1&a=1&a=2&b=%3C%3E" {
			t.Errorf("%s: echo %s", method, body)
		}
	}
	// A body that is not UTF-8 comes back in base64.
	bin := []byte{0, 1, 0xff, 0xfe, 'x'}
	resp, body := do(t, c, mustRequest(t, "POST", s.URL()+"/e?echo=1", bytes.NewReader(bin)))
	wantStatus(t, resp, body, 200)
	var e echoReply
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if e.Body != "" || e.BodyBase64 != "AAH//ng=" || e.ContentLength != 5 {
		t.Errorf("binary echo: %s", body)
	}
	// With a status, and gzipped.
	resp, body = get(t, c, s.URL()+"/e?echo=1&status=201&gzip=1")
	wantStatus(t, resp, body, 201)
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(zr).Decode(&e); err != nil || e.Path != "/e" {
		t.Errorf("gzipped echo: %v, %+v", err, e)
	}
	// Too large.
	big := bytes.NewReader(make([]byte, maxEchoBody+1))
	resp, body = do(t, c, mustRequest(t, "POST", s.URL()+"/e?echo=1", big))
	wantStatus(t, resp, body, 413)
}

func mustRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestHeadAndNoBody(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	for _, tc := range []struct {
		query  string
		length int64
	}{
		{"", int64(len("ok /h\n"))},
		{"size=12345", 12345},
		{"size=12345&chunk_delay=1h", 12345},
		{"echo=1", -2},
		{"bomb=1000000", -2},
		{"gzip=1&size=1000", -2},
		{"status=503&size=10", 10},
	} {
		resp, body := do(t, c, mustRequest(t, "HEAD", s.URL()+"/h?"+tc.query, nil))
		if len(body) != 0 {
			t.Errorf("HEAD ?%s: %d bytes of body", tc.query, len(body))
		}
		if resp.Header.Get("Content-Type") == "" {
			t.Errorf("HEAD ?%s: no Content-Type", tc.query)
		}
		if tc.length >= 0 && resp.ContentLength != tc.length || tc.length == -2 && resp.ContentLength <= 0 {
			t.Errorf("HEAD ?%s: Content-Length %d, want %d", tc.query, resp.ContentLength, tc.length)
		}
	}
	for _, code := range []int{204, 304} {
		resp, body := get(t, c, fmt.Sprintf("%s/n?status=%d&size=100", s.URL(), code))
		wantStatus(t, resp, body, code)
		if len(body) != 0 {
			t.Errorf("status=%d: %d bytes of body", code, len(body))
		}
		if code == 204 && resp.Header.Get("Content-Type") == "" {
			t.Errorf("status=%d: no Content-Type", code)
		}
	}
	// The connection is still fine for the next request.
	resp, body := get(t, c, s.URL()+"/n")
	wantStatus(t, resp, body, 200)
}

func TestStats(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	const n, m = 10, 3
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n + m {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/slow?latency=1h", nil)
			if i >= n {
				req.Host = "other.test:80"
			}
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	waitFor(t, "every request in flight", func() bool { return s.Stats().InFlight == n+m })
	st := s.Stats()
	if st.MaxConcurrent[s.Addr()] != n || st.MaxConcurrent["other.test:80"] != m || len(st.MaxConcurrent) != 2 {
		t.Errorf("MaxConcurrent %v, want %d for %s and %d for other.test:80", st.MaxConcurrent, n, s.Addr(), m)
	}
	if st.Requests != n+m || st.ByPath["/slow"] != n+m || len(st.ByPath) != 1 {
		t.Errorf("Requests %d, ByPath %v", st.Requests, st.ByPath)
	}
	cancel()
	wg.Wait()
	waitFor(t, "the handlers to return", func() bool { return s.Stats().InFlight == 0 })

	// Sequential requests: one at a time.
	get(t, c, s.URL()+"/a")
	get(t, c, s.URL()+"/a?size=1")
	get(t, c, s.URL()+"/b")
	st = s.Stats()
	if st.Requests != n+m+3 || st.ByPath["/a"] != 2 || st.ByPath["/b"] != 1 || st.MaxConcurrent[s.Addr()] != n {
		t.Errorf("after 3 more: %+v", st)
	}

	// /_stats is the same, and is not counted.
	for range 2 {
		resp, body := get(t, c, s.URL()+"/_stats")
		wantStatus(t, resp, body, 200)
		if resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("/_stats Content-Type %q", resp.Header.Get("Content-Type"))
		}
		var js Stats
		if err := json.Unmarshal(body, &js); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(js) != fmt.Sprint(st) {
			t.Errorf("/_stats %+v, Stats %+v", js, st)
		}
	}

	// Reset, by method and by request.
	s.Reset()
	st = s.Stats()
	if st.Requests != 0 || len(st.ByPath) != 0 || len(st.MaxConcurrent) != 0 || st.InFlight != 0 {
		t.Errorf("after Reset: %+v", st)
	}
	get(t, c, s.URL()+"/a")
	if st = s.Stats(); st.Requests != 1 || st.ByPath["/a"] != 1 || st.MaxConcurrent[s.Addr()] != 1 {
		t.Errorf("after Reset and one request: %+v", st)
	}
	resp, body := do(t, c, mustRequest(t, "POST", s.URL()+"/_reset", nil))
	wantStatus(t, resp, body, 200)
	if st = s.Stats(); st.Requests != 0 {
		t.Errorf("after POST /_reset: %+v", st)
	}
	resp, body = get(t, c, s.URL()+"/_reset")
	wantStatus(t, resp, body, 405)
}

func TestResetRestartsFailFirst(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	codes := func() (out []int) {
		for range 3 {
			resp, _ := get(t, c, s.URL()+"/ff?fail_first=1")
			out = append(out, resp.StatusCode)
		}
		return out
	}
	if got := fmt.Sprint(codes()); got != "[503 200 200]" {
		t.Errorf("before Reset: %s", got)
	}
	s.Reset()
	if got := fmt.Sprint(codes()); got != "[503 200 200]" {
		t.Errorf("after Reset: %s", got)
	}
}

func TestManyRequests(t *testing.T) {
	s := start(t, Config{})
	c := newClient(t)
	const workers, each = 32, 50
	var wg sync.WaitGroup
	var failed sync.Once
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				resp, err := c.Get(fmt.Sprintf("%s/m/%d?size=%d", s.URL(), w%4, i))
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					failed.Do(func() { t.Error(err) })
					return
				}
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	if st.Requests != workers*each || len(st.ByPath) != 4 || st.ByPath["/m/0"] != workers/4*each {
		t.Errorf("Requests %d, ByPath %v", st.Requests, st.ByPath)
	}
	if mc := st.MaxConcurrent[s.Addr()]; mc < 1 || mc > workers {
		t.Errorf("MaxConcurrent %d with %d workers", mc, workers)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	s, err := Start(Config{Latency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DisableCompression: true}
	c := &http.Client{Transport: tr}
	for _, q := range []string{"", "size=100000", "gzip=1&size=2000000", "bomb=5000000", "echo=1", "redirect=2", "status=503"} {
		resp, err := c.Get(s.URL() + "/g?" + q)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, q := range []string{"reset=1", "malformed=1"} {
		if resp, err := c.Get(s.URL() + "/g?" + q); err == nil {
			resp.Body.Close()
		}
	}
	// A request left hanging, and an idle keep-alive connection.
	go func() {
		if resp, err := c.Get(s.URL() + "/g?hang=1"); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, "the hanging request", func() bool { return s.Stats().InFlight == 1 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tr.CloseIdleConnections()
}

// BenchmarkServer measures round trips from a keep-alive client on the
// same machine; the req/s metric is the server's throughput (client
// included).
func BenchmarkServer(b *testing.B) {
	for _, q := range []string{"", "size=4096", "size=65536&gzip=1"} {
		b.Run("q="+q, func(b *testing.B) {
			s := start(b, Config{})
			tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 256}
			b.Cleanup(tr.CloseIdleConnections)
			c := &http.Client{Transport: tr}
			u := s.URL() + "/bench?" + q
			b.SetParallelism(16)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := c.Get(u)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
