package upstream

import (
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of a server's counters since Start or the last Reset.
// Counters are read one after the other while requests may be running, so
// they agree exactly only when the server is idle.
type Stats struct {
	// Requests is the number of requests received, /_stats and /_reset
	// excluded.
	Requests int64 `json:"requests"`
	// ByPath is the number of requests per URL path, without the query.
	ByPath map[string]int64 `json:"by_path"`
	// MaxConcurrent is the most requests in progress at once, per Host
	// header (host:port as the client sent it).
	MaxConcurrent map[string]int64 `json:"max_concurrent"`
	// InFlight is the number of requests in progress now. Reset does not
	// change it.
	InFlight int64 `json:"in_flight"`
}

// maxKeys bounds the distinct keys of a table; the keys after that share
// overflowKey.
const maxKeys = 1 << 20

// overflowKey is the table entry of the keys past maxKeys.
const overflowKey = "(other)"

// table maps keys to counters of type T, created on first use, without a
// lock on the way of a request for a known key.
type table[T any] struct {
	m sync.Map // string -> *T
	n atomic.Int64
}

// get returns key's counter, creating it if needed.
func (t *table[T]) get(key string) *T {
	if v, ok := t.m.Load(key); ok {
		return v.(*T)
	}
	if t.n.Load() >= maxKeys {
		key = overflowKey
	}
	v, loaded := t.m.LoadOrStore(key, new(T))
	if !loaded {
		t.n.Add(1)
	}
	return v.(*T)
}

// gauge counts requests in progress and the most there were at once.
type gauge struct {
	cur atomic.Int64
	max atomic.Int64
}

// inc counts one more request in progress.
func (g *gauge) inc() {
	c := g.cur.Add(1)
	for {
		m := g.max.Load()
		if c <= m || g.max.CompareAndSwap(m, c) {
			return
		}
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:      s.requests.Load(),
		ByPath:        make(map[string]int64),
		MaxConcurrent: make(map[string]int64),
		InFlight:      s.inFlight.Load(),
	}
	s.paths.Load().m.Range(func(k, v any) bool {
		if n := v.(*atomic.Int64).Load(); n > 0 {
			st.ByPath[k.(string)] = n
		}
		return true
	})
	s.hosts.m.Range(func(k, v any) bool {
		if n := v.(*gauge).max.Load(); n > 0 {
			st.MaxConcurrent[k.(string)] = n
		}
		return true
	})
	return st
}

// Reset zeroes the counters: Requests, ByPath (and with it the count
// fail_first uses) and MaxConcurrent, which restarts from the requests in
// progress now. InFlight is a gauge and keeps counting.
func (s *Server) Reset() {
	s.requests.Store(0)
	s.paths.Store(new(table[atomic.Int64]))
	s.hosts.m.Range(func(_, v any) bool {
		g := v.(*gauge)
		g.max.Store(g.cur.Load())
		return true
	})
}
