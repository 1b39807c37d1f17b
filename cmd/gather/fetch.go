package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
	"github.com/spf13/cobra"
)

type fetchFlags struct {
	cfg         fetch.Config
	method      string
	headers     []string
	data        string
	output      string
	statsFile   string
	body        string
	quiet       bool
	inputFormat string
	urlTemplate string
	keep        []string
	format      string
	fields      []string
	insecure    bool
	caCert      string
	job         string
	retryFailed string
	grace       time.Duration
	outputSet   bool   // -o was given
	graceSet    bool   // --grace was given
	input       string // the input's name
}

func newFetchCommand() *cobra.Command {
	var f fetchFlags
	cmd := &cobra.Command{
		Use:   "fetch [FILE|-]",
		Short: "Fetch every input of a file concurrently; one JSON record per input on stdout",
		Long: `Fetch reads inputs from FILE or standard input as a stream: plain lines
(a URL each), CSV with a header row, or JSONL objects. Each input's URL,
headers (-H) and body (--data) can be templates over its fields, as in
--url 'https://api.example.com/users/${{ .id }}' (the ${{ }} hold jq
expressions). Inputs are fetched concurrently with per-host limits, rate
limits, retries and timeouts, and one record per input is written as each
completes. An input that cannot be used (an empty or comment line, a bad
URL, a CSV row of the wrong width, a JSON line that does not parse, a
template that fails) is a bad_input record with its line number.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "-"
			if len(args) == 1 {
				name = args[0]
			}
			f.outputSet, f.graceSet, f.input = cmd.Flags().Changed("output"), cmd.Flags().Changed("grace"), name
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
	fl.StringArrayVarP(&f.headers, "header", "H", nil, `header "Name: value" for every request, a template (repeatable)`)
	fl.StringVar(&f.data, "data", "", "request body, a template; @FILE reads it from FILE")
	fl.StringVar(&f.inputFormat, "input-format", "auto", "lines, csv or jsonl (auto: by the file's extension, else lines)")
	fl.StringVar(&f.urlTemplate, "url", "", "URL template over each input's fields (default: the input's url field)")
	fl.StringSliceVar(&f.keep, "keep", nil, "input fields to copy into each record's input object (comma-separated)")
	fl.StringVar(&f.body, "body", "hash", "what to keep of bodies: hash, text, base64, head, or dir:DIR")
	fl.IntVar(&f.cfg.BodyHead, "body-head", 1024, "bytes kept with --body head")
	fl.Int64Var(&f.cfg.MaxBody, "max-body", 10<<20, "largest body read, after decoding; larger is a too_large error")
	fl.IntVar(&f.cfg.MaxRedirects, "max-redirects", 10, "redirects followed (-1: none)")
	fl.BoolVar(&f.cfg.HTTP2, "http2", false, "use HTTP/2 with servers that offer it (default HTTP/1.1)")
	fl.BoolVarP(&f.insecure, "insecure", "k", false, "do not verify servers' TLS certificates")
	fl.StringVar(&f.caCert, "cacert", "", "trust the PEM certificates of this file (instead of the system's roots)")
	fl.BoolVar(&f.cfg.Ordered, "ordered", false, "write records in input order (a bounded window)")
	fl.StringVarP(&f.output, "output", "o", "-", "write records to this file instead of standard output")
	fl.StringVar(&f.format, "format", "jsonl", "record format: jsonl or csv")
	fl.StringSliceVar(&f.fields, "fields", nil, "CSV columns (default: "+strings.Join(output.DefaultCSVFields, ",")+"; known: "+strings.Join(output.Fields, ",")+")")
	fl.StringVar(&f.statsFile, "stats", "", "also write the summary as JSON to this file")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress and no summary on standard error")
	fl.StringVar(&f.job, "job", "", "keep the run in this SQLite job file: run the same command again to resume it (records then go to the file, and to -o only if given)")
	fl.StringVar(&f.retryFailed, "retry-failed", "", "with --job: run the failed inputs again: all, or error kinds, statuses and classes (dns,503,5xx)")
	fl.Lookup("retry-failed").NoOptDefVal = "all"
	fl.DurationVar(&f.grace, "grace", 10*time.Second, "with --job: on Ctrl-C or SIGTERM, how long requests in flight may finish")
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
	format, err := inputFormat(f.inputFormat, name)
	if err != nil {
		return err
	}
	spec, err := newRequestSpec(format, f.method, f.urlTemplate, f.headers, body, f.keep, f.cfg.Header)
	if err != nil {
		return err
	}
	in, size := io.Reader(os.Stdin), int64(-1)
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return usageError("%v", err)
		}
		defer file.Close()
		if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in = file
	}
	// Everything is checked before the output is created: a usage error
	// never truncates an existing file.
	if err := checkRecordFormat(f.format, f.fields); err != nil {
		return err
	}
	var retry *job.Filter
	if f.retryFailed != "" {
		if f.job == "" {
			return usageError("--retry-failed needs --job")
		}
		if retry, err = job.ParseFilter(f.retryFailed); err != nil {
			return usageError("--retry-failed: %v", err)
		}
	}
	if f.grace < 0 {
		return usageError("--grace must not be negative")
	}
	if f.graceSet && f.job == "" {
		return usageError("--grace needs --job (without a job, Ctrl-C cancels the requests in flight at once)")
	}
	client, err := fetch.New(f.cfg)
	if err != nil {
		return usageError("%v", err)
	}
	defer client.Close()

	var j *job.Job
	var jin *job.Input
	if f.job != "" {
		if j, err = openFetchJob(ctx, f, format, body); err != nil {
			return err
		}
		defer j.Close() // after a failure; the normal end closes it below
	}
	grace := time.Duration(0)
	if j != nil {
		grace = f.grace
	}
	st := newStopper(ctx, grace, func(grace time.Duration) {
		if !f.quiet {
			fmt.Fprintf(os.Stderr, "\ngather: stopping: no new requests; those in flight have %v to finish (Ctrl-C again to stop them now)\n", grace)
		}
	})
	defer st.Close()
	counted := &countingReader{r: newInterruptibleReader(st.StopContext(), in)}
	read := &errWatch{r: counted}
	var reqs iter.Seq[fetch.Request]
	if j != nil {
		opts := job.InputOptions{Retry: retry}
		if retry != nil && name != "-" && size >= 0 {
			check, err := os.Open(name)
			if err != nil {
				return usageError("%v", err)
			}
			defer check.Close()
			opts.Check = check
		}
		if jin, err = j.Input(ctx, read, opts); err != nil {
			if st.Signalled() {
				return &exitError{exitInterrupted, errors.New("interrupted while checking the input against the job; nothing was fetched")}
			}
			code := exitRuntime // reading the input failed
			if errors.Is(err, job.ErrOtherInput) {
				code = exitUsage
			}
			return &exitError{code, fmt.Errorf("--job %s: %w", f.job, err)}
		}
		header, rest := []string(nil), io.Reader(jin.Reader())
		if format == "csv" && jin.Start.Offset > 0 {
			header, err = input.CSVHeader(bytes.NewReader(jin.Prefix))
			switch {
			case errors.Is(err, input.ErrNoHeader):
			case err != nil:
				rest = strings.NewReader("") // a bad header ended the input
			}
		}
		all := spec.requests(rest, jin.Start, header, jin.Take, st.Stopping)
		reqs = func(yield func(fetch.Request) bool) {
			for r := range all {
				if !yield(r) {
					return
				}
			}
			// The parser reached its end (or a bad CSV header, which ends
			// the input), not cut short by a stop or a read error.
			if !st.Stopping() && read.err == nil {
				jin.Ended()
			}
		}
		j.Start(ctx, func(error) { st.Abort() }) // the error is Close's
	} else {
		reqs = spec.requests(read, input.Pos{}, nil, nil, st.Stopping)
	}

	out := io.Writer(os.Stdout)
	switch {
	case j != nil && !f.outputSet:
		out = io.Discard // the records go to the job file
	case f.output != "-":
		file, err := os.Create(f.output)
		if err != nil {
			return &exitError{exitRuntime, fmt.Errorf("-o: %w", err)}
		}
		defer file.Close()
		out = file
	}
	w := output.JSONL(out)
	switch {
	case out == io.Discard:
		w = discard{} // nothing to encode
	case f.format == "csv":
		w, _ = output.CSV(out, f.fields) // checked above
	}

	var prog *progress
	if !f.quiet {
		prog = newProgress(size, counted)
	}
	sum, err := fetchAll(st, client, reqs, w, prog, f.quiet, j)
	if j != nil {
		if cerr := j.Close(); cerr != nil && err == nil {
			err = &exitError{exitRuntime, cerr}
		}
		if err == nil {
			err = jobSummary(ctx, j, f, &sum)
		}
	}
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

// discard is the output of a job run without -o: the records go to the
// job file only.
type discard struct{}

func (discard) Write(fetch.Record) error { return nil }
func (discard) Flush() error             { return nil }

// errWatch notes the first error other than io.EOF that its reader gives
// the input's parser: an input that ends on one was not read to its end.
type errWatch struct {
	r   io.Reader
	err error
}

func (e *errWatch) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// checkRecordFormat checks --format and --fields (gather fetch's and
// gather export's), before any output is created.
func checkRecordFormat(format string, fields []string) error {
	switch format {
	case "jsonl":
		if len(fields) > 0 {
			return usageError("--fields applies to --format csv")
		}
	case "csv":
		if _, err := output.CSV(io.Discard, fields); err != nil {
			return usageError("--fields: %v", err)
		}
	default:
		return usageError("--format %q: want jsonl or csv", format)
	}
	return nil
}

// runSummary is the end of a run: its statistics and how it ended.
type runSummary struct {
	fetch.Summary
	interrupted bool
	jobFailed   int64 // with --job: the job's failed inputs, this run's and earlier ones
}

func (s runSummary) exit() error {
	switch {
	case s.interrupted:
		return &exitError{code: exitInterrupted}
	case s.Failed > 0 || s.jobFailed > 0:
		return &exitError{code: exitSomeFailed}
	}
	return nil
}

// flushEvery bounds how long a written record may sit in the output
// buffer, so a reader of a pipe sees records promptly.
const flushEvery = 100 * time.Millisecond

// fetchAll runs the requests, writes each record to w (and to the job, if
// any) as it completes, and prints the summary on standard error. Signals
// stop the run through st: once it is stopping no new input starts, and
// when its context ends the requests in flight are cancelled and their
// records written, so every record written is complete.
func fetchAll(st *stopper, client *fetch.Client, reqs iter.Seq[fetch.Request], w output.Writer, prog *progress, quiet bool, j *job.Job) (runSummary, error) {
	ctx := st.Context()
	var read atomic.Int64
	counted := func(yield func(fetch.Request) bool) {
		for r := range reqs {
			if st.Stopping() {
				return
			}
			read.Add(1)
			if !yield(r) {
				return
			}
		}
	}
	stats := fetch.NewStats()
	lastFlush := time.Now()
	// fail ends a run that cannot go on: the input's reader and the
	// requests in flight are stopped, so that leaving the loop (which waits
	// for them) does not wait for an idle standard input.
	fail := func(err error) (runSummary, error) {
		st.Abort()
		prog.finish()
		return runSummary{}, &exitError{exitRuntime, err}
	}
	for rec := range client.Run(ctx, counted, fetch.StopStarting(st.StopContext().Done())) {
		stats.Add(rec)
		if j != nil {
			if err := j.Store(rec); err != nil {
				return fail(err)
			}
		}
		if err := w.Write(rec); err != nil {
			return fail(fmt.Errorf("writing records: %w", err))
		}
		if time.Since(lastFlush) >= flushEvery {
			lastFlush = time.Now()
			if err := w.Flush(); err != nil {
				return fail(fmt.Errorf("writing records: %w", err))
			}
			prog.update(stats.Records, stats.Failed, read.Load()-stats.Records)
		}
	}
	prog.finish()
	if err := w.Flush(); err != nil {
		return runSummary{}, &exitError{exitRuntime, fmt.Errorf("writing records: %w", err)}
	}
	res := runSummary{Summary: stats.Summary(), interrupted: st.Signalled()}
	if !quiet {
		if res.interrupted && j == nil {
			fmt.Fprintln(os.Stderr, "gather: interrupted; the records written are complete")
		}
		res.WriteText(os.Stderr)
		if note := openFilesNote(client.Concurrency()); note != "" {
			fmt.Fprintln(os.Stderr, note)
		}
	}
	return res, nil
}
