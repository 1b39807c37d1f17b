package main

import (
	"crypto/tls"
	"crypto/x509"
	"math"
	"net/http"
	"os"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/spf13/pflag"
)

// clientFlags are the flags of the HTTP engine that every command sending
// requests shares (gather fetch, gather run): per-host limits, rates,
// retries, timeouts, the body bound, redirects and TLS. The limit of
// requests in flight in all is each command's own (-c is requests for
// fetch, records for run).
type clientFlags struct {
	cfg      fetch.Config
	insecure bool
	caCert   string
	maxBody  sizeFlag
}

// register defines the flags.
func (f *clientFlags) register(fl *pflag.FlagSet) {
	f.maxBody = 10 << 20
	fl.IntVar(&f.cfg.PerHost, "per-host", 0, "requests in flight per host:port (0: no limit but the one in all)")
	fl.Float64Var(&f.cfg.Rate, "rate", 0, "requests per second in all, retries included (0: unlimited)")
	fl.Float64Var(&f.cfg.PerHostRate, "per-host-rate", 0, "requests per second per host (0: unlimited)")
	fl.IntVar(&f.cfg.Retries, "retries", 2, "retries after the first attempt (network errors, timeouts, 429, 502, 503, 504)")
	fl.BoolVar(&f.cfg.RetryUnsafe, "retry-unsafe", false, "also retry non-idempotent methods after a response or a reset")
	fl.IntVar(&f.cfg.BreakAfter, "break-after", 0, "pause a host after this many consecutive connection failures (0: never)")
	fl.DurationVar(&f.cfg.BreakCooldown, "break-cooldown", 30*time.Second, "with --break-after: how long a host stays paused before one probe request tries it again")
	fl.DurationVar(&f.cfg.ConnectTimeout, "timeout-connect", 10*time.Second, "TCP connect timeout")
	fl.DurationVar(&f.cfg.TLSTimeout, "timeout-tls", 10*time.Second, "TLS handshake timeout")
	fl.DurationVar(&f.cfg.HeaderTimeout, "timeout-headers", 30*time.Second, "time to the response headers")
	fl.DurationVar(&f.cfg.AttemptTimeout, "timeout", 60*time.Second, "one attempt, body included")
	fl.DurationVar(&f.cfg.Deadline, "deadline", 0, "one input, retries included (0: none)")
	fl.Var(&f.maxBody, "max-body", "largest body read, after decoding; larger is a too_large error (a size: 10MiB, 10MB, 512k)")
	fl.IntVar(&f.cfg.MaxRedirects, "max-redirects", 10, "redirects followed (-1: none)")
	fl.BoolVar(&f.cfg.HTTP2, "http2", false, "use HTTP/2 with servers that offer it (default HTTP/1.1)")
	fl.BoolVarP(&f.insecure, "insecure", "k", false, "do not verify servers' TLS certificates")
	fl.StringVar(&f.caCert, "cacert", "", "trust the PEM certificates of this file (instead of the system's roots)")
}

// check checks the flags' values.
func (f *clientFlags) check() error {
	c := &f.cfg
	if c.PerHost < 0 {
		return usageError("--per-host must not be negative (0: no limit but the one in all), got %d", c.PerHost)
	}
	if c.BreakAfter < 0 {
		return usageError("--break-after must not be negative (0: never), got %d", c.BreakAfter)
	}
	if c.BreakCooldown <= 0 {
		return usageError("--break-cooldown must be positive, got %v", c.BreakCooldown)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"--rate", c.Rate}, {"--per-host-rate", c.PerHostRate}} {
		switch {
		case math.IsNaN(r.v) || math.IsInf(r.v, 0):
			return usageError("%s %v: want a number of requests per second (0: unlimited)", r.name, r.v)
		case r.v < 0:
			return usageError("%s must not be negative (0: unlimited), got %v", r.name, r.v)
		case r.v > 0 && r.v < minRate:
			return usageError("%s %v: below one request a day (%.6f/s), the run would never end (0: unlimited)", r.name, r.v, minRate)
		}
	}
	if c.Retries < 0 || c.Retries > maxRetries {
		return usageError("--retries must be 0 (no retry) to %d, got %d: past that an input that keeps failing would hold the run for hours (use --deadline to bound an input)", maxRetries, c.Retries)
	}
	if c.MaxRedirects < -1 {
		return usageError("--max-redirects must be -1 (none) or more, got %d", c.MaxRedirects)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--timeout-connect", c.ConnectTimeout}, {"--timeout-tls", c.TLSTimeout}, {"--timeout-headers", c.HeaderTimeout}, {"--timeout", c.AttemptTimeout}} {
		if d.v <= 0 {
			return usageError("%s must be positive, got %v", d.name, d.v)
		}
	}
	if c.Deadline < 0 {
		return usageError("--deadline must not be negative (0: none), got %v", c.Deadline)
	}
	if f.maxBody < 1 {
		return usageError("--max-body must be at least 1 byte, got %d", f.maxBody)
	}
	return nil
}

// build completes the engine's configuration from the flags.
func (f *clientFlags) build() error {
	f.cfg.MaxBody = int64(f.maxBody)
	if f.cfg.Retries == 0 {
		f.cfg.Retries = -1 // the engine reads 0 as its default
	}
	if f.cfg.MaxRedirects == 0 {
		f.cfg.MaxRedirects = -1
	}
	f.cfg.Header = http.Header{}
	if f.insecure || f.caCert != "" {
		f.cfg.TLS = &tls.Config{InsecureSkipVerify: f.insecure}
	}
	if f.caCert != "" {
		pem, err := os.ReadFile(f.caCert)
		if err != nil {
			return usageError("--cacert: %v", err)
		}
		f.cfg.TLS.RootCAs = x509.NewCertPool()
		if !f.cfg.TLS.RootCAs.AppendCertsFromPEM(pem) {
			return usageError("--cacert %s: no PEM certificate in the file", f.caCert)
		}
	}
	return nil
}
