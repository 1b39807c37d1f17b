package fetch

import (
	"context"
	"errors"
	"net"
	"strings"
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

// fallbackDelay is how long a connection attempt to one address runs
// alone before the next address is tried alongside it (RFC 8305's
// "connection attempt delay"; net.Dialer uses 300ms between families).
const fallbackDelay = 250 * time.Millisecond

// dialContext resolves through the cache and connects to the host's
// addresses in the manner of Happy Eyeballs (RFC 8305): the addresses are
// interleaved by family (IPv6, IPv4, IPv6, ... or the other way round,
// whichever the resolver gave first), the first is tried, and each
// fallbackDelay, or as soon as the attempts running have all failed, the
// next one starts alongside. The first connection wins; the others are
// cancelled, and closed if they connected. So a black-holed address costs
// fallbackDelay, not a connect timeout.
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
		switch len(addrs) {
		case 0:
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		case 1:
			return dial(ctx, network, net.JoinHostPort(addrs[0], port))
		}
		return dialStaggered(ctx, dial, network, interleave(addrs), port, fallbackDelay)
	}
}

// interleave orders addresses alternately by family, starting with the
// family of the first, keeping the resolver's order within each family.
func interleave(addrs []string) []string {
	v6 := func(a string) bool { return strings.IndexByte(a, ':') >= 0 }
	var first, other []string
	for _, a := range addrs {
		if v6(a) == v6(addrs[0]) {
			first = append(first, a)
		} else {
			other = append(other, a)
		}
	}
	out := make([]string, 0, len(addrs))
	for i := 0; i < len(first) || i < len(other); i++ {
		if i < len(first) {
			out = append(out, first[i])
		}
		if i < len(other) {
			out = append(out, other[i])
		}
	}
	return out
}

// dialStaggered connects to the first of addrs that answers, starting a
// new attempt every delay or when all running ones have failed. It
// returns when it has a connection or every attempt failed (then with the
// first failure), after every attempt it started has ended.
func dialStaggered(ctx context.Context, dial func(ctx context.Context, network, addr string) (net.Conn, error), network string, addrs []string, port string, delay time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		conn net.Conn
		err  error
	}
	results := make(chan result, len(addrs)) // buffered: no attempt blocks on a winner that left
	start := func(a string) {
		go func() {
			conn, err := dial(ctx, network, net.JoinHostPort(a, port))
			results <- result{conn, err}
		}()
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	next, running := 0, 0
	var winner net.Conn
	var firstErr error
	start(addrs[next])
	next, running = next+1, running+1
	for running > 0 {
		select {
		case <-timer.C:
			if winner == nil && next < len(addrs) && ctx.Err() == nil {
				start(addrs[next])
				next, running = next+1, running+1
				timer.Reset(delay)
			}
		case res := <-results:
			running--
			switch {
			case res.err == nil && winner == nil:
				winner = res.conn
				cancel() // the others give up
			case res.err == nil:
				res.conn.Close() // connected too late
			case firstErr == nil:
				firstErr = res.err
			}
			if winner == nil && running == 0 && next < len(addrs) && ctx.Err() == nil {
				start(addrs[next]) // all running attempts failed: do not wait for the timer
				next, running = next+1, running+1
				timer.Reset(delay)
			}
		}
	}
	if winner != nil {
		return winner, nil
	}
	return nil, firstErr
}
