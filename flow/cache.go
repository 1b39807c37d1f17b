package flow

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gogather/gather/fetch"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// Bounds of the answers an engine keeps for steps with "cache".
const (
	// CacheEntries is how many answers an engine keeps, the least
	// recently used dropped first.
	CacheEntries = 4096
	// CacheMaxBody is the largest body kept: a larger answer is not
	// cached. The cache holds at most CacheEntries x CacheMaxBody bytes
	// of bodies (256 MiB), in practice far less.
	CacheMaxBody = 64 << 10
)

// A cached answer of an http step.
type cached struct {
	rec     fetch.Record
	resp    *fetch.Response
	expires time.Time
}

// responseCache keeps the answers of steps with "cache", shared by every
// run on an engine.
type responseCache struct {
	lru    *lru.Cache[string, cached]
	flight singleflight.Group // the calls being made, by key
}

// fetched is a call's record and response, shared by the runs waiting
// for it.
type fetched struct {
	rec  fetch.Record
	resp *fetch.Response
}

func newResponseCache() *responseCache {
	c, _ := lru.New[string, cached](CacheEntries)
	return &responseCache{lru: c}
}

// cacheKey is what makes two requests of a step the same: the step, the
// method, the URL and the headers.
func cacheKey(step string, req fetch.Request) string {
	var b strings.Builder
	b.WriteString(step)
	b.WriteByte('\n')
	b.WriteString(req.Method)
	b.WriteByte('\n')
	b.WriteString(req.URL)
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b.WriteByte('\n')
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(strings.Join(req.Header[k], ","))
	}
	return b.String()
}

func (c *responseCache) get(key string, now time.Time) (cached, bool) {
	e, ok := c.lru.Get(key)
	if !ok || !now.Before(e.expires) {
		if ok {
			c.lru.Remove(key)
		}
		return cached{}, false
	}
	return e, true
}

// put keeps a successful answer for ttl, or less when its Cache-Control
// says so; an answer marked no-store, no-cache or private (this is a
// shared cache), or too large, is not kept.
func (c *responseCache) put(key string, rec fetch.Record, resp *fetch.Response, ttl time.Duration, now time.Time) {
	if rec.Error != nil || resp == nil || resp.Status < 200 || resp.Status > 299 || len(resp.Body) > CacheMaxBody {
		return
	}
	if age, ok := cacheLifetime(resp.Header); ok {
		ttl = min(ttl, age)
	}
	if ttl <= 0 {
		return
	}
	c.lru.Add(key, cached{rec: rec, resp: resp, expires: now.Add(ttl)})
}

// cacheLifetime reads a response's Cache-Control for a shared cache: 0
// for no-store, no-cache or private, else s-maxage or max-age; ok is
// false when it says nothing of it.
func cacheLifetime(h http.Header) (time.Duration, bool) {
	cc := strings.ToLower(strings.Join(h.Values("Cache-Control"), ","))
	if cc == "" {
		return 0, false
	}
	var maxAge, sMaxAge = -1, -1
	for _, d := range strings.Split(cc, ",") {
		d = strings.TrimSpace(d)
		name, val, _ := strings.Cut(d, "=")
		switch name {
		case "no-store", "no-cache", "private":
			return 0, true
		case "max-age", "s-maxage":
			n, err := strconv.Atoi(strings.Trim(val, `"`))
			if err != nil || n < 0 {
				return 0, true // a broken directive: do not keep it
			}
			if name == "max-age" {
				maxAge = n
			} else {
				sMaxAge = n
			}
		}
	}
	switch {
	case sMaxAge >= 0:
		return time.Duration(sMaxAge) * time.Second, true
	case maxAge >= 0:
		return time.Duration(maxAge) * time.Second, true
	}
	return 0, false
}
