package fetch

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Host lookups are cached for the client's life, so a million URLs on a
// thousand hosts do a thousand lookups, and concurrent lookups of one host
// are merged into one (singleflight). Answers are kept for resolveTTL,
// "no such host" for resolveFailTTL; other failures (a timeout, a server
// failure) are not kept, so a retry asks again. Expired entries are swept
// as new ones are added, so the cache holds the hosts of the last TTL.
const (
	resolveTTL     = 5 * time.Minute
	resolveFailTTL = 5 * time.Second
)

// resolver is the caching resolver behind the client's dialer.
type resolver struct {
	lookup  func(ctx context.Context, host string) ([]string, error)
	timeout time.Duration // a lookup's own timeout: it is shared, so no caller's context bounds it
	group   singleflight.Group

	mu    sync.Mutex
	cache map[string]resolved
	added int // entries stored, for the sweep
}

type resolved struct {
	addrs   []string
	err     error
	expires time.Time
}

func newResolver(timeout time.Duration) *resolver {
	return &resolver{lookup: net.DefaultResolver.LookupHost, timeout: timeout, cache: make(map[string]resolved)}
}

// addrs returns the addresses of host, from the cache when fresh.
func (r *resolver) addrs(ctx context.Context, host string) ([]string, error) {
	r.mu.Lock()
	e, ok := r.cache[host]
	r.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.addrs, e.err
	}
	ch := r.group.DoChan(host, func() (any, error) {
		// A lookup that finished between the check above and this call
		// has filled the cache: use it.
		r.mu.Lock()
		e, ok := r.cache[host]
		r.mu.Unlock()
		if ok && time.Now().Before(e.expires) {
			return e.addrs, e.err
		}
		lctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		defer cancel()
		addrs, err := r.lookup(lctx, host)
		ttl := resolveTTL
		if err != nil {
			var dnsErr *net.DNSError
			if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
				return addrs, err // transient: not cached
			}
			ttl = resolveFailTTL
		}
		r.mu.Lock()
		r.store(host, resolved{addrs, err, time.Now().Add(ttl)})
		r.mu.Unlock()
		return addrs, err
	})
	select {
	case res := <-ch:
		addrs, _ := res.Val.([]string)
		return addrs, res.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// store adds an entry and, every sweepEvery additions, drops the expired
// ones; r.mu must be held.
func (r *resolver) store(host string, e resolved) {
	r.cache[host] = e
	if r.added++; r.added%sweepEvery == 0 {
		now := time.Now()
		for h, e := range r.cache {
			if now.After(e.expires) {
				delete(r.cache, h)
			}
		}
	}
}

const sweepEvery = 1024

// dialContext resolves through the cache and dials the addresses in turn
// until one answers.
func (r *resolver) dialContext(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || net.ParseIP(host) != nil {
			return dial(ctx, network, addr)
		}
		addrs, err := r.addrs(ctx, host)
		if err != nil {
			return nil, err
		}
		var firstErr error
		for _, a := range addrs {
			conn, err := dial(ctx, network, net.JoinHostPort(a, port))
			if err == nil {
				return conn, nil
			}
			if firstErr == nil {
				firstErr = err
			}
			if ctx.Err() != nil {
				break
			}
		}
		if firstErr == nil {
			firstErr = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
		return nil, firstErr
	}
}
