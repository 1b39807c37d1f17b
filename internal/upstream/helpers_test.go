package upstream

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine outlives the tests: the
// server must leave nothing running after Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// start starts a server closed at the end of the test.
func start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newClient returns a client that does not decompress on its own and
// whose connections are closed at the end of the test.
func newClient(t testing.TB) *http.Client {
	tr := &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 64,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// noKeepAlive returns a client with a new connection per request, so that
// the transport never retries a request on a broken reused connection.
func noKeepAlive(t testing.TB) *http.Client {
	tr := &http.Transport{DisableCompression: true, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// get fetches url and returns the response with its body read.
func get(t testing.TB, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

// do sends req and returns the response with its body read.
func do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// wantStatus fails the test unless resp has status code.
func wantStatus(t testing.TB, resp *http.Response, body []byte, code int) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("%s: status %d, want %d; body %q", resp.Request.URL, resp.StatusCode, code, trim(body))
	}
}

// trim shortens a body for a failure message.
func trim(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// pattern returns the expected size=n body.
func pattern(n int) []byte {
	b := bytes.Repeat(patternBlock, n/len(patternBlock)+1)
	return b[:n]
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
