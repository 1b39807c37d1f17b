package fetch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// hostState is what the client knows of one host during a run. It is kept
// for the client's life: about 200 bytes per distinct host.
type hostState struct {
	mu          sync.Mutex
	rate        *rate.Limiter // nil when unlimited
	pausedUntil time.Time     // Retry-After applies to the whole host
	failures    int           // consecutive connection-level failures
	open        bool          // the circuit is open: inputs fail fast
}

func (c *Client) host(key string) *hostState {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hosts[key]
	if h == nil {
		h = &hostState{}
		if c.cfg.PerHostRate > 0 {
			h.rate = rate.NewLimiter(rate.Limit(c.cfg.PerHostRate), 1)
		}
		c.hosts[key] = h
	}
	return h
}

type circuitError struct{ failures int }

func (e *circuitError) Error() string {
	return fmt.Sprintf("host paused after %d consecutive connection failures", e.failures)
}

// wait blocks until the host may be sent a request: its circuit is closed,
// any Retry-After pause is over and the rate limits allow it. It returns
// early when ctx ends or stop closes.
func (c *Client) wait(ctx context.Context, stop <-chan struct{}, h *hostState) error {
	h.mu.Lock()
	open, failures, until := h.open, h.failures, h.pausedUntil
	h.mu.Unlock()
	if open {
		return &circuitError{failures}
	}
	if d := time.Until(until); d > 0 {
		c.waitingRate.Add(1)
		err := pause(ctx, stop, d)
		c.waitingRate.Add(-1)
		if err != nil {
			return err
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
			return errRateDeadline
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
			return err
		}
	}
	return nil
}

// observe updates the host's state with an attempt's outcome.
func (c *Client) observe(h *hostState, out outcome) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case out.noFiles:
		// The process's fault: the host's count of failures stands.
	case out.kind == KindConnect, out.kind == KindTimeoutConnect, out.kind == KindDNS:
		h.failures++
		if c.cfg.BreakAfter > 0 && h.failures >= c.cfg.BreakAfter {
			h.open = true
		}
	default:
		h.failures = 0
	}
	if out.retryAfter > 0 && out.retryAfter <= c.cfg.MaxRetryWait {
		if until := time.Now().Add(out.retryAfter); until.After(h.pausedUntil) {
			h.pausedUntil = until
		}
	}
}
