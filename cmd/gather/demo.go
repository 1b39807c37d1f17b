package main

import (
	"fmt"
	"io"
	"iter"
	"log"
	"os"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/output"
	"github.com/spf13/cobra"
)

func newDemoCommand() *cobra.Command {
	var (
		n           int
		concurrency int
		latency     time.Duration
		jitter      time.Duration
		outPath     string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Fetch 10,000 URLs from a bundled local server and compare with one by one",
		Long: `Demo starts the bundled upstream server on 127.0.0.1 with realistic
latency, fetches N URLs from it concurrently, prints the summary and how long
the same requests would have taken one by one. No network, no set-up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 1 || concurrency < 1 || concurrency > maxConcurrency {
				return usageError("--count must be at least 1 and -c 1 to %d", maxConcurrency)
			}
			if err := checkLatency(latency, jitter); err != nil {
				return err
			}
			if cmd.Flags().Changed("output") && outPath == "" {
				return usageError("-o: empty file name (- is standard output)")
			}
			log.SetOutput(io.Discard) // net/http's connection notes: see runFetch
			defer log.SetOutput(os.Stderr)
			srv, err := upstream.Start(upstream.Config{Latency: latency, LatencyJitter: jitter, BodySize: 512})
			if err != nil {
				return &exitError{exitRuntime, fmt.Errorf("starting the local upstream: %w", err)}
			}
			defer srv.Close()
			client, err := fetch.New(fetch.Config{Concurrency: concurrency})
			if err != nil {
				return usageError("%v", err)
			}
			defer client.Close()
			// The demo is about the summary: records go nowhere unless -o
			// says where; -o - is standard output, as for gather fetch.
			var w output.Writer = discard{}
			switch outPath {
			case "":
			case "-":
				w = output.JSONL(stdio.out)
			default:
				f, err := os.Create(outPath)
				if err != nil {
					return &exitError{exitRuntime, fmt.Errorf("-o: %w", err)}
				}
				defer f.Close()
				w = output.JSONL(f)
			}
			fmt.Fprintf(stdio.err, "gather demo: %d URLs from %s (latency %v to %v), concurrency %d\n", n, srv.URL(), latency, latency+jitter, concurrency)
			st := newStopper(cmd.Context(), 0, nil)
			defer st.Close()
			prog := newProgress()
			if prog != nil {
				prog.total.Store(int64(n))
			}
			// The summary says how long the requests would have taken one
			// by one against the time they took.
			res, err := fetchAll(st, client, demoRequests(srv.URL(), n), nil, w, prog, false, nil)
			if err != nil {
				return err
			}
			return res.exit()
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&n, "count", "n", 10000, "URLs to fetch")
	fl.IntVar(&n, "n", 10000, "URLs to fetch (the old name of --count)")
	fl.MarkHidden("n")
	fl.IntVarP(&concurrency, "concurrency", "c", 256, "requests in flight")
	fl.DurationVar(&latency, "latency", 40*time.Millisecond, "the server's added latency")
	fl.DurationVar(&jitter, "jitter", 20*time.Millisecond, "extra random latency, up to this")
	fl.StringVarP(&outPath, "output", "o", "", "write the records to this file, - for standard output (default: discard them)")
	return cmd
}

// checkLatency refuses a negative --latency or --jitter (gather demo's
// and gather upstream's) as a usage error.
func checkLatency(latency, jitter time.Duration) error {
	if latency < 0 {
		return usageError("--latency must not be negative, got %v", latency)
	}
	if jitter < 0 {
		return usageError("--jitter must not be negative, got %v", jitter)
	}
	return nil
}

func demoRequests(base string, n int) iter.Seq[fetch.Request] {
	return func(yield func(fetch.Request) bool) {
		for i := 1; i <= n; i++ {
			if !yield(fetch.Request{Line: i, Method: "GET", URL: fmt.Sprintf("%s/item/%d", base, i)}) {
				return
			}
		}
	}
}
