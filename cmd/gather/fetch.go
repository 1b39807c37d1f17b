package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/textproto"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/spf13/cobra"
)

type fetchFlags struct {
	cfg       fetch.Config
	method    string
	headers   []string
	data      string
	output    string
	statsFile string
	body      string
	quiet     bool
}

func newFetchCommand() *cobra.Command {
	var f fetchFlags
	cmd := &cobra.Command{
		Use:   "fetch [FILE|-]",
		Short: "Fetch every URL of a file (one per line) concurrently; one JSON record per input on stdout",
		Long: `Fetch reads URLs, one per line, from FILE or standard input as a stream,
fetches them concurrently with per-host limits, rate limits, retries and
timeouts, and writes one JSON record per input line as each completes.
Blank lines and lines starting with # are reported as bad_input records, so
that every line number has its record.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "-"
			if len(args) == 1 {
				name = args[0]
			}
			return runFetch(cmd.Context(), name, &f)
		},
	}
	fl := cmd.Flags()
	fl.IntVarP(&f.cfg.Concurrency, "concurrency", "c", 64, "requests in flight in all")
	fl.IntVar(&f.cfg.PerHost, "per-host", 0, "requests in flight per host:port (0: no limit beyond -c)")
	fl.Float64Var(&f.cfg.Rate, "rate", 0, "requests per second in all, retries included (0: unlimited)")
	fl.Float64Var(&f.cfg.PerHostRate, "per-host-rate", 0, "requests per second per host (0: unlimited)")
	fl.IntVar(&f.cfg.Retries, "retries", 2, "retries after the first attempt (network errors, timeouts, 429, 502, 503, 504)")
	fl.BoolVar(&f.cfg.RetryUnsafe, "retry-unsafe", false, "also retry non-idempotent methods after a response or a reset")
	fl.IntVar(&f.cfg.BreakAfter, "break-after", 0, "pause a host after this many consecutive connection failures (0: never)")
	fl.DurationVar(&f.cfg.ConnectTimeout, "timeout-connect", 10*time.Second, "TCP connect timeout")
	fl.DurationVar(&f.cfg.TLSTimeout, "timeout-tls", 10*time.Second, "TLS handshake timeout")
	fl.DurationVar(&f.cfg.HeaderTimeout, "timeout-headers", 30*time.Second, "time to the response headers")
	fl.DurationVar(&f.cfg.AttemptTimeout, "timeout", 60*time.Second, "one attempt, body included")
	fl.DurationVar(&f.cfg.Deadline, "deadline", 0, "one input, retries included (0: none)")
	fl.StringVarP(&f.method, "method", "X", "GET", "HTTP method")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, `header "Name: value" for every request (repeatable)`)
	fl.StringVar(&f.data, "data", "", "request body for every request; @FILE reads it from FILE")
	fl.StringVar(&f.body, "body", "hash", "what to keep of bodies: hash, text, base64, head, or dir:DIR")
	fl.IntVar(&f.cfg.BodyHead, "body-head", 1024, "bytes kept with --body head")
	fl.Int64Var(&f.cfg.MaxBody, "max-body", 10<<20, "largest body read, after decoding; larger is a too_large error")
	fl.IntVar(&f.cfg.MaxRedirects, "max-redirects", 10, "redirects followed (-1: none)")
	fl.BoolVar(&f.cfg.HTTP2, "http2", false, "use HTTP/2 with servers that offer it (default HTTP/1.1)")
	fl.BoolVar(&f.cfg.Ordered, "ordered", false, "write records in input order (a bounded window)")
	fl.StringVarP(&f.output, "output", "o", "-", "write records to this file instead of standard output")
	fl.StringVar(&f.statsFile, "stats", "", "also write the summary as JSON to this file")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no summary on standard error")
	return cmd
}

// buildConfig completes the engine configuration from the flags.
func (f *fetchFlags) buildConfig() error {
	if f.cfg.Concurrency < 1 {
		return usageError("--concurrency must be at least 1, got %d", f.cfg.Concurrency)
	}
	if f.cfg.Retries == 0 {
		f.cfg.Retries = -1 // the engine reads 0 as its default
	}
	if f.cfg.MaxRedirects == 0 {
		f.cfg.MaxRedirects = -1
	}
	f.cfg.Header = http.Header{}
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return usageError("-H %q: want \"Name: value\"", h)
		}
		f.cfg.Header.Add(textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name)), strings.TrimSpace(value))
	}
	policy, dir, _ := strings.Cut(f.body, ":")
	f.cfg.Body, f.cfg.BodyDir = fetch.BodyPolicy(policy), dir
	switch f.cfg.Body {
	case fetch.BodyHash, fetch.BodyText, fetch.BodyBase64, fetch.BodyHead:
	case fetch.BodyDir:
		if dir == "" {
			return usageError("--body dir needs a directory: --body dir:DIR")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return usageError("--body %s: %v", f.body, err)
		}
	default:
		return usageError("--body %q: want hash, text, base64, head or dir:DIR", f.body)
	}
	return nil
}

func runFetch(ctx context.Context, name string, f *fetchFlags) error {
	if err := f.buildConfig(); err != nil {
		return err
	}
	var body []byte
	if strings.HasPrefix(f.data, "@") {
		b, err := os.ReadFile(f.data[1:])
		if err != nil {
			return usageError("--data %s: %v", f.data, err)
		}
		body = b
	} else if f.data != "" {
		body = []byte(f.data)
	}
	in := os.Stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return usageError("%v", err)
		}
		defer file.Close()
		in = file
	}
	out := os.Stdout
	if f.output != "-" {
		file, err := os.Create(f.output)
		if err != nil {
			return usageError("-o: %v", err)
		}
		defer file.Close()
		out = file
	}
	client, err := fetch.New(f.cfg)
	if err != nil {
		return usageError("%v", err)
	}
	defer client.Close()

	reqs := requestsFromLines(input.Lines(in), f.method, body)
	sum, err := fetchAll(ctx, client, reqs, out, f.quiet)
	if err != nil {
		return err
	}
	if f.statsFile != "" {
		b, _ := json.MarshalIndent(sum.Summary, "", "  ")
		if err := os.WriteFile(f.statsFile, append(b, '\n'), 0o644); err != nil {
			return &exitError{exitRuntime, fmt.Errorf("--stats: %w", err)}
		}
	}
	return sum.exit()
}

// requestsFromLines turns plain input lines into requests, one per line.
func requestsFromLines(lines iter.Seq[input.Line], method string, body []byte) iter.Seq[fetch.Request] {
	return func(yield func(fetch.Request) bool) {
		for l := range lines {
			req := fetch.Request{Line: l.Num, Method: method, URL: strings.TrimSpace(l.Text), Body: body, Err: l.Err}
			switch {
			case req.Err != nil:
			case req.URL == "":
				req.Err = errors.New("empty line")
			case strings.HasPrefix(req.URL, "#"):
				req.Err = errors.New("comment line")
			}
			if !yield(req) {
				return
			}
		}
	}
}

// runSummary is the end of a run: its statistics and how it ended.
type runSummary struct {
	fetch.Summary
	interrupted bool
}

func (s runSummary) exit() error {
	switch {
	case s.interrupted:
		return &exitError{code: exitInterrupted}
	case s.Failed > 0:
		return &exitError{code: exitSomeFailed}
	}
	return nil
}

// fetchAll runs the requests, writes each record as one JSON line to out as
// it completes, and prints the summary on standard error. Ctrl-C or SIGTERM
// stops the run: requests in flight are cancelled and their records written,
// so every line written is complete.
func fetchAll(ctx context.Context, client *fetch.Client, reqs iter.Seq[fetch.Request], out io.Writer, quiet bool) (runSummary, error) {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := newRecordWriter(out)
	stats := fetch.NewStats()
	for rec := range client.Run(ctx, reqs) {
		stats.Add(rec)
		if err := w.write(rec); err != nil {
			return runSummary{}, &exitError{exitRuntime, fmt.Errorf("writing records: %w", err)}
		}
	}
	if err := w.flush(); err != nil {
		return runSummary{}, &exitError{exitRuntime, fmt.Errorf("writing records: %w", err)}
	}
	res := runSummary{Summary: stats.Summary(), interrupted: ctx.Err() != nil}
	if !quiet {
		if res.interrupted {
			fmt.Fprintln(os.Stderr, "gather: interrupted; the records written are complete")
		}
		res.WriteText(os.Stderr)
	}
	return res, nil
}

// recordWriter writes records as JSON lines through a buffer that is flushed
// at least every flushEvery, so a reader of a pipe sees records promptly.
type recordWriter struct {
	bw        *bufio.Writer
	enc       *json.Encoder // writes to bw what json.Marshal gives, and a newline, without a copy per record
	lastFlush time.Time
}

const flushEvery = 100 * time.Millisecond

func newRecordWriter(w io.Writer) *recordWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &recordWriter{bw: bw, enc: json.NewEncoder(bw), lastFlush: time.Now()}
}

func (w *recordWriter) write(rec fetch.Record) error {
	if err := w.enc.Encode(&rec); err != nil {
		return err
	}
	if time.Since(w.lastFlush) >= flushEvery {
		return w.flush()
	}
	return nil
}

func (w *recordWriter) flush() error {
	w.lastFlush = time.Now()
	return w.bw.Flush()
}
