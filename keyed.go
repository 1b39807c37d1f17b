package gather

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/semaphore"
)

// A KeyedLimiter bounds concurrency per key (a host, a tenant, an API key)
// inside a global bound: at most perKey holders for any one key and at most
// global holders in all.
//
// Acquire takes the key's slot first and the global slot second. A caller
// waiting for a busy key therefore holds no global slot, so one hot or slow
// key can never occupy the global limit while its callers queue: the other
// keys keep flowing. Waiters of one key are served first come, first served,
// and so are waiters for the global slot.
//
// The limiter keeps state only for keys that are held or waited for; a key's
// state is dropped when its last holder releases it, so idle keys cost
// nothing and the number of distinct keys over time is unbounded.
type KeyedLimiter[K comparable] struct {
	global *semaphore.Weighted
	perKey int64

	mu   sync.Mutex
	keys map[K]*keySlots
}

type keySlots struct {
	sem  *semaphore.Weighted
	refs int // holders and waiters
	held int // holders
}

// ErrKeyNotEqual is returned by KeyedLimiter.Acquire for a key that is not
// equal to itself (a floating-point NaN): it could never be found again to
// be released.
var ErrKeyNotEqual = errors.New("gather: limiter key is not equal to itself (NaN)")

// NewKeyedLimiter returns a limiter allowing global holders in all and
// perKey holders per key. Both must be at least 1.
func NewKeyedLimiter[K comparable](global, perKey int) *KeyedLimiter[K] {
	if global < 1 || perKey < 1 {
		panic(fmt.Sprintf("gather: NewKeyedLimiter(%d, %d): both limits must be at least 1", global, perKey))
	}
	return &KeyedLimiter[K]{
		global: semaphore.NewWeighted(int64(global)),
		perKey: int64(perKey),
		keys:   make(map[K]*keySlots),
	}
}

// Acquire waits for a slot of key and then for a global slot, and returns
// nil once it holds both; the caller must then call Release(key). If ctx is
// done first, Acquire holds nothing and returns ctx.Err(). A key of an
// interface type whose dynamic value is not comparable makes Acquire panic,
// as a map index would.
func (l *KeyedLimiter[K]) Acquire(ctx context.Context, key K) error {
	if key != key {
		return ErrKeyNotEqual
	}
	ks := l.ref(key)
	if err := ks.sem.Acquire(ctx, 1); err != nil {
		l.unref(key, ks)
		return err
	}
	if err := l.global.Acquire(ctx, 1); err != nil {
		ks.sem.Release(1)
		l.unref(key, ks)
		return err
	}
	l.mu.Lock()
	ks.held++
	l.mu.Unlock()
	return nil
}

// Release gives back the slots taken by a successful Acquire(ctx, key). It
// panics if key has no holder.
func (l *KeyedLimiter[K]) Release(key K) {
	ks := l.holder(key)
	l.global.Release(1)
	ks.sem.Release(1)
	l.unref(key, ks)
}

// ref returns the key's state, made if needed, counting the caller in.
func (l *KeyedLimiter[K]) ref(key K) *keySlots {
	l.mu.Lock()
	defer l.mu.Unlock() // a non-comparable key panics in the map index
	ks := l.keys[key]
	if ks == nil {
		ks = &keySlots{sem: semaphore.NewWeighted(l.perKey)}
		l.keys[key] = ks
	}
	ks.refs++
	return ks
}

// holder returns the state of a held key, or panics.
func (l *KeyedLimiter[K]) holder(key K) *keySlots {
	l.mu.Lock()
	defer l.mu.Unlock()
	ks := l.keys[key]
	if ks == nil || ks.held == 0 {
		panic(fmt.Sprintf("gather: KeyedLimiter.Release(%v) of a key that is not held", key))
	}
	ks.held--
	return ks
}

func (l *KeyedLimiter[K]) unref(key K, ks *keySlots) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ks.refs--
	if ks.refs == 0 {
		delete(l.keys, key)
	}
}

// activeKeys returns how many keys the limiter keeps state for.
func (l *KeyedLimiter[K]) activeKeys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
