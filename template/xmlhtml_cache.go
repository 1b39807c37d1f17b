package template

import (
	"container/list"
	"sync"
)

// Bounds of the caches of compiled XPath expressions and CSS selectors.
const (
	// exprCacheSize is how many compiled expressions each cache keeps (the
	// least recently used one is dropped past it). A flow names few
	// distinct expressions; this bounds one that computes them from data.
	exprCacheSize = 128
	// exprCacheMaxLen is the longest expression kept in a cache: longer
	// ones are compiled at each call, so the cache holds at most about
	// exprCacheSize*exprCacheMaxLen bytes of expression text.
	exprCacheMaxLen = 4096
)

// An exprCache is a bounded cache of compiled expressions (a small LRU),
// safe for concurrent use. Each distinct expression it holds is compiled
// once, even when several goroutines ask for it at the same time; a
// compile error is kept like a result.
type exprCache[T any] struct {
	compile func(string) (T, error)

	mu sync.Mutex
	ll list.List // of *cached[T], the most recently used first
	m  map[string]*list.Element
}

// A cached is one expression of an exprCache, compiled by the first
// caller of its once.
type cached[T any] struct {
	expr string
	once sync.Once
	val  T
	err  error
}

func newExprCache[T any](compile func(string) (T, error)) *exprCache[T] {
	return &exprCache[T]{compile: compile, m: make(map[string]*list.Element)}
}

// get returns expr compiled, or its compile error.
func (c *exprCache[T]) get(expr string) (T, error) {
	if len(expr) > exprCacheMaxLen {
		return c.compile(expr)
	}
	c.mu.Lock()
	var e *cached[T]
	if el, ok := c.m[expr]; ok {
		c.ll.MoveToFront(el)
		e = el.Value.(*cached[T])
	} else {
		e = &cached[T]{expr: expr}
		c.m[expr] = c.ll.PushFront(e)
		for c.ll.Len() > exprCacheSize {
			last := c.ll.Back()
			c.ll.Remove(last)
			delete(c.m, last.Value.(*cached[T]).expr)
		}
	}
	c.mu.Unlock()
	e.once.Do(func() { e.val, e.err = c.compile(expr) })
	return e.val, e.err
}

// len returns the number of expressions in the cache.
func (c *exprCache[T]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
