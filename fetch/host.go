package fetch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sweepMin is the size of the host table below which it is not swept.
const sweepMin = 64

// hostState is what the client knows of one host.
type hostState struct {
	// refs counts the requests holding the state: from the start of a
	// request to its end (slots, waits, attempts, back-off). It is
	// guarded by Client.mu.
	refs int
	// slots holds a token per request in flight to the host, when
	// PerHost is set (nil otherwise).
	slots chan struct{}

	mu          sync.Mutex
	rate        *rate.Limiter // nil when unlimited
	pausedUntil time.Time     // Retry-After applies to the whole host
	failures    int           // consecutive connection-level failures
	lastFailure time.Time     // when the last of them was counted
	open        bool          // the circuit is open: inputs fail fast until openUntil
	openUntil   time.Time     // the end of the cool-down: then one probe goes
	probing     bool          // the circuit is half-open and its probe is out
}

// idle reports whether the state says nothing that a new state would not:
// see "Per-host state". The caller holds Client.mu; refs is checked by the
// caller.
func (h *hostState) idle(now time.Time, cfg *Config) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.open, h.probing, now.Before(h.pausedUntil):
		return false
	case h.failures > 0 && cfg.BreakAfter > 0 && now.Sub(h.lastFailure) < cfg.BreakCooldown:
		return false
	case h.rate != nil && h.rate.TokensAt(now) < 1:
		return false
	}
	return true
}

// acquire returns the state of the host key, counted as in use until
// release.
func (c *Client) acquire(key string) *hostState {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[key]
	if h == nil {
		if len(c.hosts) >= c.sweepAt {
			c.sweep(time.Now())
		}
		h = c.newHost()
		c.hosts[key] = h
	}
	h.refs++
	return h
}

// release ends a use of the state of the host key, dropping the state if
// that was its last use and it is idle.
func (c *Client) release(key string, h *hostState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.refs--
	if h.refs == 0 && h.idle(time.Now(), &c.cfg) {
		delete(c.hosts, key)
		if len(c.free) < freeMax {
			c.free = append(c.free, h)
		}
	}
}

// newHost returns a fresh host state, reusing a dropped one when there is
// one (so that a host used one request after another costs no
// allocation). The caller holds c.mu.
func (c *Client) newHost() *hostState {
	if n := len(c.free); n > 0 {
		h := c.free[n-1]
		c.free[n-1] = nil
		c.free = c.free[:n-1]
		// An idle state's fields are a new one's, but for a past pause
		// and a count of failures too old to matter, and a full limiter.
		h.pausedUntil, h.failures, h.lastFailure = time.Time{}, 0, time.Time{}
		return h
	}
	h := &hostState{}
	if c.cfg.PerHostRate > 0 {
		h.rate = rate.NewLimiter(rate.Limit(c.cfg.PerHostRate), 1)
	}
	if c.cfg.PerHost > 0 {
		h.slots = make(chan struct{}, c.cfg.PerHost)
	}
	return h
}

// freeMax bounds the dropped states kept for reuse.
const freeMax = 64

// sweep drops the state of every idle host not in use, and sets the size
// of the table at which the next sweep happens: twice what is left, at
// least sweepMin. The caller holds c.mu.
func (c *Client) sweep(now time.Time) {
	for key, h := range c.hosts {
		if h.refs == 0 && h.idle(now, &c.cfg) {
			delete(c.hosts, key)
			if len(c.free) < freeMax {
				c.free = append(c.free, h)
			}
		}
	}
	c.sweepAt = max(sweepMin, 2*len(c.hosts))
}

// hostCount returns the number of hosts whose state the client holds.
func (c *Client) hostCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.hosts)
}

// takeSlots waits for a slot of the host (with PerHost), then for one of
// the client (Concurrency), so that a host at its limit holds none of the
// client's slots. It returns early when ctx ends or stop closes, holding
// no slot.
func (c *Client) takeSlots(ctx context.Context, stop <-chan struct{}, h *hostState) error {
	if h.slots != nil {
		if err := c.take(ctx, stop, h.slots); err != nil {
			return err
		}
	}
	if err := c.take(ctx, stop, c.slots); err != nil {
		if h.slots != nil {
			<-h.slots
		}
		return err
	}
	return nil
}

// take puts a token in slots, waiting for room.
func (c *Client) take(ctx context.Context, stop <-chan struct{}, slots chan struct{}) error {
	select {
	case slots <- struct{}{}:
		return nil
	default:
	}
	c.waitingSlot.Add(1)
	defer c.waitingSlot.Add(-1)
	select {
	case slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-stop:
		return errStopped
	}
}

// freeSlots gives back the slots takeSlots took.
func (c *Client) freeSlots(h *hostState) {
	<-c.slots
	if h.slots != nil {
		<-h.slots
	}
}

type circuitError struct {
	failures int
	retry    time.Duration // until the next probe
}

func (e *circuitError) Error() string {
	return fmt.Sprintf("host paused after %d consecutive connection failures; next try in %v", e.failures, e.retry.Round(time.Millisecond))
}

// wait blocks until the host may be sent a request: its circuit is closed
// (or half-open, and this request is its probe), any Retry-After pause is
// over and the rate limits allow it. It returns early when ctx ends or
// stop closes. probe reports that the request is the half-open circuit's
// probe: the caller passes it to observe, or to endProbe if it sends
// nothing.
func (c *Client) wait(ctx context.Context, stop <-chan struct{}, h *hostState) (probe bool, err error) {
	h.mu.Lock()
	if h.open {
		now := time.Now()
		if now.Before(h.openUntil) || h.probing {
			failures, retry := h.failures, max(h.openUntil.Sub(now), 0)
			h.mu.Unlock()
			return false, &circuitError{failures, retry}
		}
		h.probing, probe = true, true
	}
	until := h.pausedUntil
	h.mu.Unlock()
	defer func() {
		if err != nil && probe {
			c.endProbe(h)
			probe = false
		}
	}()
	if d := time.Until(until); d > 0 {
		c.waitingRate.Add(1)
		err := pause(ctx, stop, d)
		c.waitingRate.Add(-1)
		if err != nil {
			return probe, err
		}
	}
	for _, lim := range [...]*rate.Limiter{c.rate, h.rate} {
		if lim == nil {
			continue
		}
		r := lim.Reserve()
		d := r.Delay()
		if deadline, ok := ctx.Deadline(); ok && time.Now().Add(d).After(deadline) {
			r.Cancel()
			return probe, errRateDeadline
		}
		if d > 0 {
			c.waitingRate.Add(1)
		}
		err := pause(ctx, stop, d)
		if d > 0 {
			c.waitingRate.Add(-1)
		}
		if err != nil {
			r.Cancel()
			return probe, err
		}
	}
	return probe, nil
}

// endProbe gives back the half-open circuit's probe, unsent: the next
// request may be the probe.
func (c *Client) endProbe(h *hostState) {
	h.mu.Lock()
	h.probing = false
	h.mu.Unlock()
}

// observe updates the host's state with an attempt's outcome. A
// connection failure counts against the host, and trips its circuit at
// BreakAfter in a row (a count older than BreakCooldown starts again) or
// when the attempt was the half-open circuit's probe; any other outcome
// from the host (a response, an error after connecting) closes the
// circuit.
func (c *Client) observe(h *hostState, out outcome, probe bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if probe {
		h.probing = false
	}
	switch {
	case out.noFiles:
		// The process's fault: the host's count of failures stands.
	case out.kind == KindConnect, out.kind == KindTimeoutConnect, out.kind == KindDNS:
		now := time.Now()
		if h.failures > 0 && now.Sub(h.lastFailure) >= c.cfg.BreakCooldown {
			h.failures = 0 // not consecutive any more: too long ago
		}
		h.failures++
		h.lastFailure = now
		if c.cfg.BreakAfter > 0 && (h.failures >= c.cfg.BreakAfter || probe) {
			h.open, h.openUntil = true, now.Add(c.cfg.BreakCooldown)
		}
	case out.kind == KindCanceled, out.kind == KindDeadline:
		// Ended by the caller: nothing learnt of the host.
	default:
		h.failures, h.open = 0, false
	}
	if out.retryAfter > 0 && out.retryAfter <= c.cfg.MaxRetryWait {
		if until := time.Now().Add(out.retryAfter); until.After(h.pausedUntil) {
			h.pausedUntil = until
		}
	}
}

// HostOf returns the host of an http or https URL as scheme://host:port
// (the scheme and host in lower case, the default port written out, no
// user information, an IPv6 address in brackets), or "" for another
// string: the one definition of a host, the key of the per-host limits,
// rates and circuit breaker, and the host of the summary's tables and of
// a job file's results.
func HostOf(u string) string { return hostOf(u) }
