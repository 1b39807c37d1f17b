package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// params are the knobs of one request: the Config's defaults overridden by
// the query.
type params struct {
	query url.Values // nil when the URL has no query

	latency    time.Duration
	jitter     time.Duration
	chunkDelay time.Duration

	status     int // 0: not set
	failRate   float64
	failSet    bool
	failFirst  int64 // -1: not set
	retryAfter string

	size     int64 // -1: the short text body
	bomb     int64 // -1: not set
	redirect int64 // -1: not set

	gzip, loop, reset, malformed, hang, echo bool
}

// conditional reports whether failures apply to some requests only.
func (p *params) conditional() bool { return p.failSet || p.failFirst >= 0 }

// explicit reports whether the request names its failure.
func (p *params) explicit() bool {
	return p.status != 0 || p.reset || p.malformed || p.hang
}

// paramError is a query parameter with a bad value.
type paramError struct {
	name, value string
	err         error
}

func (e *paramError) Error() string {
	return fmt.Sprintf("bad query parameter %s=%q: %v", e.name, e.value, e.err)
}

func (e *paramError) Unwrap() error { return e.err }

// params returns the knobs of a request with the given raw query.
func (s *Server) params(rawQuery string) (params, error) {
	c := &s.cfg
	p := params{
		latency:    c.Latency,
		jitter:     c.LatencyJitter,
		failRate:   c.FailRate,
		failFirst:  -1,
		retryAfter: c.RetryAfter,
		size:       -1,
		bomb:       -1,
		redirect:   -1,
	}
	if c.BodySize > 0 {
		p.size = int64(c.BodySize)
	}
	if rawQuery == "" {
		return p, nil
	}
	// A malformed query (a bad escape) keeps what could be parsed: its
	// other parameters are not this server's business.
	p.query, _ = url.ParseQuery(rawQuery)
	for name, vals := range p.query {
		if len(vals) == 0 {
			continue
		}
		v := vals[0]
		var err error
		switch name {
		case "latency":
			p.latency, err = parseDuration(v)
		case "jitter":
			p.jitter, err = parseDuration(v)
		case "chunk_delay":
			p.chunkDelay, err = parseDuration(v)
		case "status":
			p.status, err = strconv.Atoi(v)
			if err == nil && (p.status < 200 || p.status > 599) {
				err = errors.New("not in [200, 599]")
			}
		case "fail":
			p.failRate, err = strconv.ParseFloat(v, 64)
			if err == nil && !(p.failRate >= 0 && p.failRate <= 1) {
				err = errors.New("not in [0, 1]")
			}
			p.failSet = true
		case "fail_first":
			p.failFirst, err = parseCount(v)
		case "retry_after":
			p.retryAfter, err = v, checkRetryAfter(v)
		case "size":
			p.size, err = parseCount(v)
		case "bomb":
			p.bomb, err = parseCount(v)
		case "redirect":
			p.redirect, err = parseCount(v)
		case "gzip":
			p.gzip, err = strconv.ParseBool(v)
		case "loop":
			p.loop, err = strconv.ParseBool(v)
		case "reset":
			p.reset, err = strconv.ParseBool(v)
		case "malformed":
			p.malformed, err = strconv.ParseBool(v)
		case "hang":
			p.hang, err = strconv.ParseBool(v)
		case "echo":
			p.echo, err = strconv.ParseBool(v)
		}
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) {
				err = ne.Err
			}
			return p, &paramError{name, v, err}
		}
	}
	return p, nil
}

// parseDuration parses a non-negative Go duration.
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err == nil && d < 0 {
		err = errors.New("negative")
	}
	return d, err
}

// parseCount parses a non-negative integer.
func parseCount(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err == nil && n < 0 {
		err = errors.New("negative")
	}
	return n, err
}

// checkRetryAfter accepts the two forms of Retry-After: a number of
// seconds or an HTTP-date.
func checkRetryAfter(v string) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return errors.New("negative")
		}
		return nil
	}
	if _, err := http.ParseTime(v); err != nil {
		return errors.New("neither seconds nor an HTTP-date")
	}
	return nil
}
