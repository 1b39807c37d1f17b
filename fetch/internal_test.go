package fetch

import (
	"fmt"
	"net"
	"net/url"
	"testing"
)

func TestHostKey(t *testing.T) {
	for _, raw := range []string{
		"http://example.com/a", "https://example.com/a", "http://example.com:8080/",
		"https://EXAMPLE.com:443", "http://[::1]/x", "https://[::1]:8443/x",
		"http://[fe80::1%25en0]:80/", "http://127.0.0.1:18090/i/1", "http://user:pw@h/",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		want := u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port)
		if got := hostKey(u); got != want {
			t.Errorf("%s: %q, want %q", raw, got, want)
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
