package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/output"
	"github.com/gogather/gather/run"
	"github.com/gogather/gather/template"
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
			var sink run.Sink
			switch outPath {
			case "":
			case "-":
				sink = run.Records(output.JSONL(stdio.out))
			default:
				f, err := os.Create(outPath)
				if err != nil {
					return &exitError{exitRuntime, fmt.Errorf("-o: %w", err)}
				}
				defer f.Close()
				sink = run.Records(output.JSONL(f))
			}
			fmt.Fprintf(stdio.err, "gather demo: %d URLs from %s (latency %v to %v), concurrency %d\n", n, srv.URL(), latency, latency+jitter, concurrency)
			reqs, _ := template.NewRequests(template.RequestSpec{}) // the input's URLs as they are
			prog := newProgress()
			if prog != nil {
				prog.total.Store(int64(n))
			}
			// The summary says how long the requests would have taken one
			// by one against the time they took.
			r := run.New(run.Config{
				Input: demoInput(srv.URL(), n), Format: run.Lines,
				Stage: run.Fetch{Client: client, Requests: reqs}, Sink: sink, Log: stdio.err,
				Progress: func(p run.Progress) {
					prog.update(progressState{Done: p.Done, Failed: p.Failed, Load: client.Load()})
				},
			})
			sig, ctx := listenSignals(cmd.Context(), false)
			defer sig.close()
			sig.attach(r, 0)
			res, err := r.Run(ctx)
			prog.finish()
			if err != nil {
				return &exitError{exitRuntime, err}
			}
			return runExit(res, sig)
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

// demoInput returns the demo's input: n URLs of the local upstream, one a
// line, made as they are read.
func demoInput(base string, n int) io.Reader { return &demoReader{base: base, n: n} }

type demoReader struct {
	base    string
	i, n    int
	pending []byte
}

func (d *demoReader) Read(p []byte) (int, error) {
	for len(d.pending) < len(p) && d.i < d.n {
		d.i++
		d.pending = fmt.Appendf(d.pending, "%s/item/%d\n", d.base, d.i)
	}
	if len(d.pending) == 0 {
		return 0, io.EOF
	}
	k := copy(p, d.pending)
	d.pending = d.pending[:copy(d.pending, d.pending[k:])]
	return k, nil
}
