package fetch

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"
)

// One definition of a host: canonical scheme://host:port, for the
// per-host limits (prepare's key) and for hostOf (HostOf) alike.
func TestHostIsCanonicalSchemeHostPort(t *testing.T) {
	c, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for raw, want := range map[string]string{
		"http://example.com/a":                "http://example.com:80",
		"https://example.com/a":               "https://example.com:443",
		"http://example.com:8080/":            "http://example.com:8080",
		"https://EXAMPLE.com:443":             "https://example.com:443",
		"HTTPS://Example.COM/x?y#z":           "https://example.com:443",
		"http://example.com:/":                "http://example.com:80",
		"http://example.com:0080/":            "http://example.com:80",
		"http://[::1]/x":                      "http://[::1]:80",
		"https://[::1]:8443/x":                "https://[::1]:8443",
		"http://[FE80::1%25en0]:80/":          "http://[fe80::1%en0]:80",
		"http://[2001:DB8::1]:81":             "http://[2001:db8::1]:81",
		"http://127.0.0.1:18090/i/1":          "http://127.0.0.1:18090",
		"http://user:pw@h/":                   "http://h:80",
		"http://a@b@Host.example:9/":          "http://host.example:9",
		"  http://padded.example/  ":          "http://padded.example:80",
		"http://ÉTÉ.example/":                 "http://été.example:80",
		"http://h.example?q=http://other:1/x": "http://h.example:80",
	} {
		if got := hostOf(raw); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", raw, got, want)
		}
		p := c.prepare(Request{URL: raw})
		if p.err != nil {
			t.Errorf("%q: %v", raw, p.err)
			continue
		}
		if p.host != want {
			t.Errorf("the per-host key of %q is %q, want %q", raw, p.host, want)
		}
	}
	for _, raw := range []string{"", "example.com/x", "ftp://example.com/", "http://", "http:///x", "http://h:99999/", "mailto:a@b", "http://[::1/"} {
		if got := hostOf(raw); got != "" {
			t.Errorf("hostOf(%q) = %q, want \"\"", raw, got)
		}
	}
}

func TestStatusClass(t *testing.T) {
	for _, s := range []int{0, -1, 1, 99, 100, 199, 200, 204, 299, 301, 404, 500, 599, 600, 999, 1000, 12345} {
		want := "none"
		if s > 0 {
			want = fmt.Sprintf("%dxx", s/100)
		}
		if got := StatusClass(s); got != want {
			t.Errorf("%d: %q, want %q", s, got, want)
		}
	}
}

// roundTrips may only say true of URLs that url.String gives back as
// written: the record's final_url depends on it.
func FuzzRoundTrips(f *testing.F) {
	for _, s := range []string{"http://a/b?c=d", "https://x:80/a/b/../c?x=1&y=2", "http://[::1]:8/p", "http://h/a;b,c", "http://h", "http://h?", "HTTP://h/", "http://h/%41", "http://u@h/#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !roundTrips(s) {
			return
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return
		}
		if got := u.String(); got != s {
			t.Fatalf("roundTrips(%q) is true, but url.String gives %q", s, got)
		}
	})
}

// A host used one request after another reuses its dropped state: taking
// and giving back a host's state allocates nothing, whatever the limits.
func TestHostStateReuseAllocatesNothing(t *testing.T) {
	c, err := New(Config{PerHost: 4, PerHostRate: 1e9, BreakAfter: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const key = "http://example.com:80"
	c.release(key, c.acquire(key)) // the first state is made once
	allocs := testing.AllocsPerRun(100, func() {
		h := c.acquire(key)
		if err := c.takeSlots(context.Background(), nil, h); err != nil {
			t.Fatal(err)
		}
		c.freeSlots(h)
		c.release(key, h)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per use of a host's state", allocs)
	}
	if n := c.hostCount(); n != 0 {
		t.Errorf("%d host states held after use", n)
	}
}

// The transport gets the headers' timeout only when it may end an attempt
// before the attempt timeout (a Run's attempts may have a thousandth
// more): otherwise it would only cost a timer per request.
func TestHeaderTimeoutSetOnlyWhenItCanComeFirst(t *testing.T) {
	for _, c := range []struct {
		header, attempt, want time.Duration
	}{
		{0, 0, 30 * time.Second}, // the defaults: 30s, 60s
		{5 * time.Second, 10 * time.Second, 5 * time.Second},
		{10 * time.Second, 10 * time.Second, 10 * time.Second},
		{10*time.Second + 10*time.Millisecond, 10 * time.Second, 10*time.Second + 10*time.Millisecond},
		{10*time.Second + 11*time.Millisecond, 10 * time.Second, 0},
		{20 * time.Second, 10 * time.Second, 0},
	} {
		cl, err := New(Config{HeaderTimeout: c.header, AttemptTimeout: c.attempt})
		if err != nil {
			t.Fatal(err)
		}
		if got := cl.transport.ResponseHeaderTimeout; got != c.want {
			t.Errorf("headers %v, attempt %v: the transport's is %v, want %v", c.header, c.attempt, got, c.want)
		}
		cl.Close()
	}
}
