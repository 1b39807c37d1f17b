package fetch_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// Headers: Config.Header on every request, a request's own headers win,
// the User-Agent is the configured one unless a header sets one, and
// requests with and without their own headers, run together, never see
// each other's.
func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Body: fetch.BodyText, Concurrency: 16,
		Header: http.Header{"X-All": {"all"}, "X-Over": {"config"}}})
	echo := srv.URL() + "/h?echo=1"
	type want struct{ all, over, own, ua string }
	cases := []struct {
		own  http.Header
		want want
	}{
		{nil, want{"all", "config", "", "gather/0"}},
		{http.Header{"X-Own": {"mine"}}, want{"all", "config", "mine", "gather/0"}},
		{http.Header{"X-Over": {"request"}}, want{"all", "request", "", "gather/0"}},
		{http.Header{"User-Agent": {"custom/1"}}, want{"all", "config", "", "custom/1"}},
		{http.Header{"User-Agent": {""}}, want{"all", "config", "", "gather/0"}},
	}
	var reqs []fetch.Request
	for range 20 {
		for _, c := range cases {
			reqs = append(reqs, fetch.Request{Line: len(reqs) + 1, URL: echo, Header: c.own})
		}
	}
	for line, rec := range collect(client, requests2(reqs)) {
		c := cases[(line-1)%len(cases)]
		var got struct{ Headers map[string][]string }
		if err := json.Unmarshal(rec.Body, &got); err != nil || rec.Error != nil {
			t.Fatalf("line %d: %v %+v", line, err, rec)
		}
		first := func(k string) string {
			if v := got.Headers[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		if g := (want{first("X-All"), first("X-Over"), first("X-Own"), first("User-Agent")}); g != c.want {
			t.Errorf("line %d, own headers %v: got %+v, want %+v", line, c.own, g, c.want)
		}
	}
	// The client's shared headers are untouched by the run.
	rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: echo})
	if !strings.Contains(string(rec.Body), `"User-Agent":["gather/0"]`) || strings.Contains(string(rec.Body), "X-Own") {
		t.Errorf("shared headers changed: %s", rec.Body)
	}
}

// Bodies of many sizes, read through pooled buffers and hashes, one after
// another and at once: every size and hash is the body's own, including
// after a body that was too large, and kept bodies are whole.
func TestBodiesThroughPooledReaders(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	sizes := []int{0, 1, 100, 4095, 4096, 4097, 32 << 10, 32<<10 + 1, 100000, 7}
	want := map[int]string{}
	for _, n := range sizes {
		resp, err := http.Get(fmt.Sprintf("%s/b?size=%d", srv.URL(), n))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha256.Sum256(b)
		want[n] = hex.EncodeToString(sum[:])
	}
	hash := newClient(t, fetch.Config{MaxBody: 50000, Concurrency: 4})
	text := newClient(t, fetch.Config{Body: fetch.BodyText})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, n := range sizes {
				rec := hash.Do(context.Background(), fetch.Request{Line: 1, URL: fmt.Sprintf("%s/b?size=%d", srv.URL(), n)})
				if n > 50000 {
					if rec.Error == nil || rec.Error.Kind != fetch.KindTooLarge {
						t.Errorf("size %d over the maximum: %+v", n, rec)
					}
					continue
				}
				if rec.Error != nil || rec.Bytes != int64(n) || rec.SHA256 != want[n] {
					t.Errorf("size %d: bytes %d sha %s, want %s (%v)", n, rec.Bytes, rec.SHA256, want[n], rec.Error)
				}
			}
		})
	}
	wg.Wait()
	for _, n := range sizes {
		rec := text.Do(context.Background(), fetch.Request{Line: 1, URL: fmt.Sprintf("%s/b?size=%d", srv.URL(), n)})
		var body string
		if n > 0 {
			if err := json.Unmarshal(rec.Body, &body); err != nil {
				t.Fatalf("size %d: %v", n, err)
			}
		}
		sum := sha256.Sum256([]byte(body))
		if len(body) != n || hex.EncodeToString(sum[:]) != want[n] || rec.SHA256 != want[n] {
			t.Errorf("size %d kept as text: %d bytes, sha %s", n, len(body), rec.SHA256)
		}
	}
}

// The URL is requested as given (trimmed); final_url appears only when the
// URL after redirects differs from the input as written.
func TestURLAsGivenAndFinalURL(t *testing.T) {
	t.Parallel()
	srv := upstreamtest.Start(t, upstream.Config{})
	client := newClient(t, fetch.Config{Body: fetch.BodyText})
	cases := []struct {
		url, final, rawQuery string
	}{
		{srv.URL() + "/p/a%2Fb?echo=1&x=%41", "", "echo=1&x=%41"},
		{"  " + srv.URL() + "/sp?echo=1 ", srv.URL() + "/sp?echo=1", "echo=1"},
		{srv.URL() + "/ä?echo=1", srv.URL() + "/%C3%A4?echo=1", "echo=1"},
		{srv.URL() + "/r?redirect=1&echo=1", srv.URL() + "/r?echo=1&redirect=0", "echo=1&redirect=0"},
	}
	for _, c := range cases {
		rec := client.Do(context.Background(), fetch.Request{Line: 1, URL: c.url})
		var got struct {
			RawQuery string `json:"raw_query"`
		}
		if err := json.Unmarshal(rec.Body, &got); err != nil || rec.Error != nil {
			t.Fatalf("%q: %v %+v", c.url, err, rec)
		}
		if rec.FinalURL != c.final || rec.URL != c.url {
			t.Errorf("%q: url %q final_url %q, want final_url %q", c.url, rec.URL, rec.FinalURL, c.final)
		}
		if got.RawQuery != c.rawQuery {
			t.Errorf("%q: the server saw query %q, want %q", c.url, got.RawQuery, c.rawQuery)
		}
	}
}

func requests2(reqs []fetch.Request) func(func(fetch.Request) bool) {
	return func(yield func(fetch.Request) bool) {
		for _, r := range reqs {
			if !yield(r) {
				return
			}
		}
	}
}
