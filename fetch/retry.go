package fetch

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryable says whether to retry after an attempt, and after how long.
func (c *Client) retryable(method string, out outcome, attempt int) (time.Duration, bool) {
	if attempt > c.cfg.Retries {
		return 0, false
	}
	switch {
	case out.noFiles:
		// Out of file descriptors, nothing sent: after the back-off,
		// requests in flight will have freed some.
	case out.kind == KindDNS, out.kind == KindConnect, out.kind == KindTimeoutConnect:
		// Nothing was sent: safe for every method.
	case out.kind == KindReset, out.kind == KindTimeoutHeaders, out.kind == KindTimeoutTotal, out.kind == KindTimeoutTLS:
		if !idempotent(method) && !c.cfg.RetryUnsafe {
			return 0, false
		}
	case out.kind == "":
		switch out.status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		default:
			return 0, false
		}
		if !idempotent(method) && !c.cfg.RetryUnsafe && out.status != http.StatusTooManyRequests {
			return 0, false
		}
	default:
		return 0, false
	}
	if out.retryAfter > c.cfg.MaxRetryWait {
		return 0, false
	}
	backoff := c.cfg.RetryBase << (attempt - 1)
	if backoff > c.cfg.RetryMax || backoff <= 0 {
		backoff = c.cfg.RetryMax
	}
	// Jitter: a uniform wait in [backoff/2, backoff], so retries of many
	// inputs do not arrive in lockstep.
	backoff = backoff/2 + rand.N(backoff/2+1)
	return max(backoff, out.retryAfter), true
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// pause waits d, and returns early with the context's cause when ctx ends
// or with errStopped when stop closes.
func pause(ctx context.Context, stop <-chan struct{}, d time.Duration) error {
	if d <= 0 {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-stop:
		return errStopped
	}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP-date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
