package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/gogather/gather/internal/upstream"
	"github.com/spf13/cobra"
)

func newUpstreamCommand() *cobra.Command {
	var (
		addr string
		cfg  upstream.Config
		size sizeFlag
	)
	cmd := &cobra.Command{
		Use:   "upstream",
		Short: "Run the bundled local HTTP server used by tests, benchmarks and the demo",
		Long: `Upstream serves HTTP on --addr with added latency, failures and body
sizes, server-wide by flags or per request by query parameters (latency=,
status=, fail=, fail_first=, retry_after=, size=, gzip=1, redirect=N, loop=1,
reset=1, hang=1, malformed=1, echo=1). GET /_stats returns its counters as
JSON. Paths under /demo/ are a small JSON API (login with a Bearer token,
orders, items, a latin1 RSS feed, summaries POSTed and listed at
/demo/summaries) that the flows of examples/ call. It runs until
interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLatency(cfg.Latency, cfg.LatencyJitter); err != nil {
				return err
			}
			if size > 1<<30 {
				return usageError("--size %d: at most 1GiB", size)
			}
			cfg.BodySize = int(size)
			srv, err := upstream.StartOn(addr, cfg)
			if err != nil {
				return &exitError{exitRuntime, fmt.Errorf("listening on %s: %w", addr, err)}
			}
			fmt.Fprintf(os.Stderr, "gather upstream: serving on %s (stats at %s/_stats); Ctrl-C stops\n", srv.URL(), srv.URL())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			return srv.Close()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	fl.DurationVar(&cfg.Latency, "latency", 0, "latency added to every response")
	fl.DurationVar(&cfg.LatencyJitter, "jitter", 0, "extra random latency, up to this")
	fl.Var(&size, "size", "body size (a size: 512, 4k, 1MiB; 0: a short text)")
	fl.Float64Var(&cfg.FailRate, "fail", 0, "probability of a failure status")
	fl.IntVar(&cfg.FailStatus, "fail-status", 503, "the failure status")
	fl.StringVar(&cfg.RetryAfter, "retry-after", "", "Retry-After sent with failures")
	return cmd
}
