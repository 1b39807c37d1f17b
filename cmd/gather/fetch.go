package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gogather/gather/internal/lockfile"
	"io"
	"io/fs"
	"iter"
	"log"
	"math"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/gogather/gather/internal/atomicfile"
	"github.com/gogather/gather/internal/human"
	"github.com/gogather/gather/internal/samefile"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
	"github.com/spf13/cobra"
)

type fetchFlags struct {
	cfg         fetch.Config
	method      string
	headers     []string
	data        string
	json        string // --json: the body, sent as JSON
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
	maxBody     sizeFlag
	bodyHead    sizeFlag
	outputSet   bool             // -o was given
	graceSet    bool             // --grace was given
	methodSet   bool             // -X was given
	bodySet     bool             // --data or --json was given
	jsonSet     bool             // --json was given
	jobSet      bool             // --job was given
	statsSet    bool             // --stats was given
	input       string           // the input's name
	reads       []samefile.Named // the files the run reads, which no output may be
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
completes. Blank lines, and a plain list's # comments, are skipped. An
input that cannot be used (a bad URL, a CSV row of the wrong width, a JSON
line that does not parse, a template that fails) is a bad_input record with
its line number.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "-"
			if len(args) == 1 {
				name = args[0]
			}
			fl := cmd.Flags()
			f.outputSet, f.graceSet, f.input = fl.Changed("output"), fl.Changed("grace"), name
			f.methodSet, f.jsonSet, f.jobSet, f.statsSet = fl.Changed("method"), fl.Changed("json"), fl.Changed("job"), fl.Changed("stats")
			f.bodySet = fl.Changed("data") || f.jsonSet
			f.reads = readFiles(cmd, args) // standard input too, if a file
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
	fl.StringVarP(&f.method, "method", "X", "GET", "HTTP method (POST with --data or --json, as curl)")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, `header "Name: value" for every request, a template (repeatable)`)
	fl.StringVar(&f.data, "data", "", "request body, a template; @FILE reads it from FILE; sent as application/x-www-form-urlencoded (as curl's -d) unless -H sets a Content-Type")
	fl.StringVar(&f.json, "json", "", "request body sent as JSON (as curl's --json): --data with Content-Type and Accept application/json unless -H sets them")
	fl.StringVar(&f.inputFormat, "input-format", "auto", "lines, csv or jsonl (auto: by the file's extension, else lines)")
	fl.StringVar(&f.urlTemplate, "url", "", "URL template over each input's fields (default: the input's url field)")
	fl.StringSliceVar(&f.keep, "keep", nil, "input fields to copy into each record's input object (comma-separated); with --format csv, columns input.NAME")
	fl.StringVar(&f.body, "body", "hash", "what to keep of bodies: hash, text, base64, head, or dir:DIR")
	f.bodyHead, f.maxBody = 1024, 10<<20
	fl.Var(&f.bodyHead, "body-head", "bytes kept with --body head (a size: 512, 4k, 1KiB)")
	fl.Var(&f.maxBody, "max-body", "largest body read, after decoding; larger is a too_large error (a size: 10MiB, 10MB, 512k)")
	fl.IntVar(&f.cfg.MaxRedirects, "max-redirects", 10, "redirects followed (-1: none)")
	fl.BoolVar(&f.cfg.HTTP2, "http2", false, "use HTTP/2 with servers that offer it (default HTTP/1.1)")
	fl.BoolVarP(&f.insecure, "insecure", "k", false, "do not verify servers' TLS certificates")
	fl.StringVar(&f.caCert, "cacert", "", "trust the PEM certificates of this file (instead of the system's roots)")
	fl.BoolVar(&f.cfg.Ordered, "ordered", false, "write records in input order (a bounded window)")
	fl.StringVarP(&f.output, "output", "o", "-", "write records to this file instead of standard output")
	fl.StringVar(&f.format, "format", "jsonl", "record format: jsonl or csv")
	fl.StringSliceVar(&f.fields, "fields", nil, "CSV columns (default: "+strings.Join(output.DefaultCSVFields(), ",")+", then input.NAME for each --keep NAME; known: "+strings.Join(output.Fields(), ",")+", input.NAME)")
	fl.StringVar(&f.statsFile, "stats", "", "also write the summary as JSON to this file")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress and no summary on standard error")
	fl.StringVar(&f.job, "job", "", "keep the run in this SQLite job file: run the same command again to resume it (records then go to the file, and to -o only if given)")
	fl.StringVar(&f.retryFailed, "retry-failed", "", "with --job: run the failed inputs again: all, or error kinds, statuses and classes (dns,503,5xx)")
	fl.Lookup("retry-failed").NoOptDefVal = "all"
	fl.DurationVar(&f.grace, "grace", 10*time.Second, "with --job: on Ctrl-C or SIGTERM, how long requests in flight may finish")
	return cmd
}

// maxConcurrency is the most requests in flight -c accepts: each needs a
// connection, and beyond this a run exhausts ports and open files.
const maxConcurrency = 100_000

// minRate is the lowest --rate and --per-host-rate: one request a day.
// Below it a run never ends (1e-300 waits for ever after the first).
const minRate = 1.0 / 86400

// sizeFlag is a flag holding a size in bytes, read by human.ParseSize:
// a plain integer or a number with a unit (512k, 10MB, 10MiB).
type sizeFlag int64

func (s *sizeFlag) String() string {
	switch n := int64(*s); {
	case n > 0 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n > 0 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	default:
		return strconv.FormatInt(n, 10)
	}
}

func (s *sizeFlag) Set(v string) error {
	n, err := human.ParseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func (s *sizeFlag) Type() string { return "size" }

// isToken reports whether s is an HTTP token (RFC 9110), as a method must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// checkFlags refuses flag values that make no sense, before anything is
// opened or requested: each is a usage error of one line.
func (f *fetchFlags) checkFlags() error {
	c := &f.cfg
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		return usageError("--concurrency must be 1 to %d, got %d", maxConcurrency, c.Concurrency)
	}
	if c.PerHost < 0 {
		return usageError("--per-host must not be negative (0: no limit beyond -c), got %d", c.PerHost)
	}
	if c.BreakAfter < 0 {
		return usageError("--break-after must not be negative (0: never), got %d", c.BreakAfter)
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
	if f.grace < 0 {
		return usageError("--grace must not be negative, got %v", f.grace)
	}
	if f.maxBody < 1 {
		return usageError("--max-body must be at least 1 byte, got %d", f.maxBody)
	}
	if f.bodyHead < 1 || int64(f.bodyHead) > math.MaxInt32 {
		return usageError("--body-head must be 1 byte to 2 GiB, got %d", f.bodyHead)
	}
	if !isToken(f.method) {
		return usageError("-X %q: a method is a token (letters, digits, !#$%%&'*+-.^_`|~), no spaces", f.method)
	}
	if f.jobSet && f.job == "" {
		return usageError("--job: empty file name")
	}
	if f.outputSet && f.output == "" {
		return usageError("-o: empty file name (- is standard output)")
	}
	if f.statsSet && f.statsFile == "" {
		return usageError("--stats: empty file name")
	}
	if f.jsonSet && f.data != "" {
		return usageError("--data and --json both give the body: give one")
	}
	return nil
}

// buildConfig completes the engine configuration from the flags.
func (f *fetchFlags) buildConfig() error {
	if err := f.checkFlags(); err != nil {
		return err
	}
	f.cfg.MaxBody, f.cfg.BodyHead = int64(f.maxBody), int(f.bodyHead)
	if f.bodySet && !f.methodSet {
		f.method = "POST" // as curl's -d and --json
	}
	if f.jsonSet {
		f.data = f.json // the body, as --data: a template, or @FILE
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

// maxRetries bounds --retries: with back-off capped at its maximum, 100
// retries already keep a failing input for tens of minutes.
const maxRetries = 100

// outputs names the files the run writes: -o (unless standard output)
// and --stats.
func (f *fetchFlags) outputs() []samefile.Named {
	var outs []samefile.Named
	if f.output != "-" && f.output != "" {
		outs = append(outs, samefile.Named{Name: "-o", Path: f.output})
	}
	if f.statsFile != "" {
		outs = append(outs, samefile.Named{Name: "--stats", Path: f.statsFile})
	}
	return outs
}

// checkOutputs refuses, before anything is opened for writing, an output
// that is the same file as one the run reads (the input, the job file) or
// that names a directory, and a --stats (or with --job a -o) whose
// directory does not exist (found otherwise only after the whole run).
func (f *fetchFlags) checkOutputs() error {
	outs := f.outputs()
	for i := range outs { // against what the run reads, and each other
		if err := samefile.Check(outs[i:i+1], append(slices.Clone(f.reads), outs[:i]...)); err != nil {
			return usageError("%v", err)
		}
	}
	if f.job != "" {
		// The job file is created at the start of the run: a directory
		// that does not exist is a usage error, before anything is opened.
		dir := filepath.Dir(f.job)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usageError("--job %s: no such directory %s", f.job, dir)
		}
	}
	for _, o := range outs {
		st, err := os.Stat(o.Path)
		if err == nil && st.IsDir() {
			return usageError("%s %s is a directory; want a file", o.Name, o.Path)
		}
		// --stats is written only after the run, and so is -o with a
		// job: a directory that does not exist is found now, before any
		// request. -o without a job is created before any request (exit
		// 3 if it cannot be).
		if dir := filepath.Dir(o.Path); err != nil && (o.Name == "--stats" || f.job != "") {
			if st, derr := os.Stat(dir); derr != nil || !st.IsDir() {
				return usageError("%s %s: no such directory %s", o.Name, o.Path, dir)
			}
		}
	}
	return nil
}

// keptColumns makes the CSV columns of the kept input fields: with
// --format csv and --keep, the default columns are followed by input.NAME
// for each kept field; --fields may name them, and only them.
func (f *fetchFlags) keptColumns() error {
	if f.format != "csv" {
		return nil
	}
	if len(f.fields) == 0 {
		if len(f.keep) > 0 {
			f.fields = append(output.DefaultCSVFields(), output.InputFields(f.keep)...)
		}
		return nil
	}
	for _, col := range f.fields {
		if slices.Contains(f.keep, col) && !slices.Contains(output.Fields(), col) {
			return usageError("--fields %s: the column of the kept input field %s is %s%s", col, col, output.InputPrefix, col)
		}
		if name, ok := strings.CutPrefix(col, output.InputPrefix); ok && !slices.Contains(f.keep, name) {
			return usageError("--fields %s: the input field %s is not kept: give --keep %s", col, name, name)
		}
	}
	return nil
}

// setBodyType sets the Content-Type (and for --json the Accept) that
// --data and --json imply, as curl does, unless -H gives them.
func (f *fetchFlags) setBodyType() {
	if !f.bodySet {
		return
	}
	given := map[string]bool{}
	for _, h := range f.headers {
		name, _, _ := strings.Cut(h, ":")
		given[textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))] = true
	}
	set := func(name, value string) {
		if !given[name] {
			f.cfg.Header.Set(name, value)
		}
	}
	if f.jsonSet {
		set("Content-Type", "application/json")
		set("Accept", "application/json")
		return
	}
	set("Content-Type", "application/x-www-form-urlencoded")
}

func runFetch(ctx context.Context, name string, f *fetchFlags) error {
	if err := f.buildConfig(); err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(keptBodiesMemoryLimit(f.cfg))
	}
	// net/http logs some events of its connections through the log
	// package ("Unsolicited response received on idle HTTP channel"): the
	// terminal gets the records and the summary, nothing else.
	log.SetOutput(io.Discard)
	defer log.SetOutput(os.Stderr)
	bodyFlag := "--data"
	if f.jsonSet {
		bodyFlag = "--json"
	}
	var body []byte
	if strings.HasPrefix(f.data, "@") {
		b, err := os.ReadFile(f.data[1:])
		if err != nil {
			return usageError("%s %s: %v", bodyFlag, f.data, err)
		}
		body = b
	} else if f.bodySet {
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
	f.setBodyType()
	// Everything is checked before the output is created: a usage error
	// never truncates an existing file.
	if err := f.keptColumns(); err != nil {
		return err
	}
	if err := checkRecordFormat(f.format, f.fields); err != nil {
		return err
	}
	if err := f.checkOutputs(); err != nil {
		return err
	}
	in, size := stdio.in, int64(-1)
	var inFile *os.File // a regular file read from its offset inOff
	var inOff int64
	if f, ok := stdio.in.(*os.File); ok && name == "-" {
		// gather fetch - < file: standard input is a regular file, whose
		// lines can be counted as a named file's.
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			if off, err := f.Seek(0, io.SeekCurrent); err == nil {
				inFile, inOff, size = f, off, st.Size()
			}
		}
	}
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return usageError("%v", err)
		}
		defer file.Close()
		st, err := file.Stat()
		if err == nil && st.IsDir() {
			return usageError("%s is a directory; want a file of inputs", name)
		}
		if err == nil && st.Mode().IsRegular() {
			inFile, size = file, st.Size()
		}
		in = file
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
		// The job file exists now: an output that reaches it by another
		// name (a linked directory) is found by identity.
		if err := samefile.Check(f.outputs(), jobFiles(f.job)); err != nil {
			return usageError("%v", err)
		}
	}
	if f.cfg.Body == fetch.BodyDir {
		unlock, err := claimBodyDir(f.cfg.BodyDir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	grace := time.Duration(0)
	if j != nil {
		grace = f.grace
	}
	st := newStopper(ctx, grace, func(grace time.Duration) {
		if !f.quiet {
			fmt.Fprintf(stdio.err, "\ngather: stopping: no new requests; those in flight have %v to finish (Ctrl-C again to stop them now)\n", grace)
		}
	})
	defer st.Close()
	read := &errWatch{r: newInterruptibleReader(st.StopContext(), in)}
	var prog *progress
	if !f.quiet {
		prog = newProgress()
	}
	if prog != nil && size >= 0 && retry == nil {
		// A regular file: its lines are counted beside the run, so that
		// the display knows how many inputs there are to do.
		if j != nil {
			if p, err := j.Progress(ctx); err == nil {
				prog.base = p.Stored
			}
		}
		defer prog.countLinesFrom(st.StopContext(), inFile, inOff, format == "csv")()
	}
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
		all := spec.requestsContext(st.StopContext(), rest, jin.Start, header, jin.Take, jin.Pass)
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
		reqs = spec.requestsContext(st.StopContext(), read, input.Pos{}, nil, nil, nil)
	}

	// With a job, a regular -o file is written from the job at the end of
	// every run (fromJob): records stream only to standard output or to
	// a file that is not regular (a pipe, a device).
	fromJob := j != nil && f.outputSet && f.output != "-" && isRegularOrNew(f.output)
	out := stdio.out
	var outFile *os.File
	switch {
	case j != nil && (!f.outputSet || fromJob):
		out = nil // the records go to the job file
	case f.output != "-":
		file, err := os.Create(f.output)
		if err != nil {
			return &exitError{exitRuntime, fmt.Errorf("-o: %w", err)}
		}
		defer file.Close()
		out, outFile = file, file
	}
	var w output.Writer = discard{}
	switch {
	case out == nil:
	case f.format == "csv":
		w, _ = output.CSV(out, f.fields) // checked above
	default:
		w = output.JSONL(out)
	}

	sum, err := fetchAll(st, client, reqs, spec, w, prog, f.quiet, j)
	if err == nil && outFile != nil {
		if cerr := outFile.Close(); cerr != nil {
			err = &exitError{exitRuntime, fmt.Errorf("-o: %w", cerr)}
		}
	}
	if j != nil {
		if cerr := j.Close(); cerr != nil && err == nil {
			err = &exitError{exitRuntime, cerr}
		}
		if fromJob {
			// Whatever ended the run (its end, Ctrl-C, a full disk), -o
			// holds every result stored, once each, in input order.
			if werr := writeFromJob(context.WithoutCancel(ctx), f.job, f.output, f.format, f.fields); werr != nil && err == nil {
				err = &exitError{exitRuntime, werr}
			}
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

// isRegularOrNew reports whether path is a regular file (after links) or
// does not exist yet.
func isRegularOrNew(path string) bool {
	st, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist) || err == nil && st.Mode().IsRegular()
}

// writeFromJob writes every result stored in the job at jobPath to path,
// in input order, in the format of -o: to a temporary file beside it,
// synced, then renamed over it. A kill at any moment leaves path as the
// previous run wrote it (or absent), never half written; only a
// temporary file (.NAME.gather-DIGITS.tmp) may be left, which the next
// run removes (atomicfile.Write).
func writeFromJob(ctx context.Context, jobPath, path, format string, fields []string) error {
	err := atomicfile.Write(path, func(tmp io.Writer) error {
		r, err := job.OpenReader(ctx, jobPath, job.AfterClose()) // checked whole unless this process just closed it cleanly
		if err != nil {
			return err
		}
		defer r.Close()
		var w output.Writer
		if format == "csv" {
			w, _ = output.CSV(tmp, fields) // checked before the run
		} else {
			w = output.JSONL(tmp)
		}
		raw, _ := w.(output.JSONWriter)
		for res, err := range r.Results(ctx, nil) {
			if err != nil {
				return err
			}
			if raw != nil {
				err = raw.WriteJSON(res.Line, res.Record) // as stored: the record as fetch wrote it
			} else {
				var rec fetch.Record
				if err = decodeRecord(res.Record, &rec); err == nil {
					err = w.Write(rec)
				}
			}
			if err != nil {
				return err
			}
		}
		return w.Flush()
	})
	if err != nil {
		return fmt.Errorf("-o %s: writing it from the job: %w; the file is as the previous run left it", path, err)
	}
	return nil
}

// decodeRecord decodes a record stored in a job. Numbers in kept input
// fields stay json.Number, written as the input wrote them
// (12345678901234567890, 1.50), as the streamed output does.
func decodeRecord(b []byte, r *fetch.Record) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(r); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("invalid character after top-level value")
	}
	return nil
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
	interrupted  bool
	outputClosed error // the write that found the output closed (EPIPE)
	jobFailed    int64 // with --job: the job's failed inputs, this run's and earlier ones
}

func (s runSummary) exit() error {
	switch {
	case s.outputClosed != nil:
		return &exitError{exitRuntime, fmt.Errorf("the output was closed (broken pipe): stopped after %d records, no new requests", s.Records)}
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
// records written, so every record written is complete. An output closed
// by its reader stops the run the same way (the records finished are
// still stored in the job), and the run ends with exit 3.
//
// in, when not nil, tells what the input skipped and why it ended early,
// for the summary.
func fetchAll(st *stopper, client *fetch.Client, reqs iter.Seq[fetch.Request], in inputNotes, w output.Writer, prog *progress, quiet bool, j *job.Job) (runSummary, error) {
	ctx := st.Context()
	counted := func(yield func(fetch.Request) bool) {
		for r := range reqs {
			if st.Stopping() {
				return
			}
			if !yield(r) {
				return
			}
		}
	}
	stats := fetch.NewStats()
	lastFlush := time.Now()
	var closed error // set once the output was found closed
	// fail ends a run that cannot go on: the input's reader and the
	// requests in flight are stopped, so that leaving the loop (which waits
	// for them) does not wait for an idle standard input.
	fail := func(err error) (runSummary, error) {
		st.Abort()
		prog.finish()
		return runSummary{}, &exitError{exitRuntime, err}
	}
	// written handles an output's error: nil, a closed output (the run
	// stops, the job keeps storing), or the end of the run.
	written := func(err error) error {
		switch {
		case err == nil || closed != nil:
			return nil
		case isClosedOutput(err):
			closed = err
			st.Stop()
			return nil
		}
		return fmt.Errorf("writing records: %w", err)
	}
	for rec := range client.Run(ctx, counted, fetch.StopStarting(st.StopContext().Done())) {
		stats.Add(rec)
		if j != nil {
			if err := j.StoreRecord(rec); err != nil {
				return fail(err)
			}
		}
		if closed == nil {
			if err := written(w.Write(rec)); err != nil {
				return fail(err)
			}
		}
		if time.Since(lastFlush) >= flushEvery {
			lastFlush = time.Now()
			if closed == nil {
				if err := written(w.Flush()); err != nil {
					return fail(err)
				}
			}
			prog.update(progressState{Done: stats.Records, Failed: stats.Failed, Load: client.Load()})
		}
	}
	prog.finish()
	if closed == nil {
		if err := written(w.Flush()); err != nil {
			return runSummary{}, &exitError{exitRuntime, err}
		}
	}
	if in != nil {
		stats.AddSkipped(in.skippedLines())
		if err := in.endedEarly(); err != nil {
			stats.NoteInput("the input ended early: " + err.Error())
		}
	}
	res := runSummary{Summary: stats.Summary(), interrupted: st.Signalled(), outputClosed: closed}
	if !quiet {
		if res.interrupted && j == nil {
			fmt.Fprintln(stdio.err, "gather: interrupted; the records written are complete")
		}
		// A job run that fetched nothing (the job was done) has no
		// figures of its own: jobSummary says where the job stands.
		if j == nil || res.Records > 0 {
			res.WriteText(stdio.err)
		}
		if note := openFilesNote(client.Concurrency()); note != "" {
			fmt.Fprintln(stdio.err, note)
		}
	}
	return res, nil
}

// inputNotes is what the input's reader (a requestSpec) tells the summary.
type inputNotes interface {
	skippedLines() int64
	endedEarly() error
}

// bodyDirLock is the file in a --body dir: directory that one run at a
// time holds locked: bodies are named by input line, so two runs writing
// there would overwrite each other's.
const bodyDirLock = ".gather.lock"

// claimBodyDir locks the body directory for this run (a usage error when
// another gather run holds it) and removes the .part files a run killed
// mid-body left there: with the lock held, no other run is writing them.
func claimBodyDir(dir string) (unlock func(), err error) {
	lf, err := os.OpenFile(filepath.Join(dir, bodyDirLock), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, &exitError{exitRuntime, fmt.Errorf("--body dir:%s: %w", dir, err)}
	}
	if err := lockfile.TryLock(lf); err != nil {
		lf.Close()
		if errors.Is(err, lockfile.ErrWouldBlock) {
			return nil, usageError("--body dir:%s: another gather run is writing bodies there (bodies are named by input line: give each run its own directory)", dir)
		}
		return nil, &exitError{exitRuntime, fmt.Errorf("--body dir:%s: locking: %w", dir, err)}
	}
	if _, err := fetch.RemovePartFiles(dir); err != nil {
		lf.Close()
		return nil, &exitError{exitRuntime, fmt.Errorf("--body dir:%s: %w", dir, err)}
	}
	return func() { lf.Close() }, nil
}

// keptBodiesMemoryLimit returns the soft memory limit for a fetch run of
// cfg when GOMEMLIMIT is not set: with bodies kept in memory (--body text
// or base64), 2 x --concurrency x --max-body, at least
// minKeptBodiesLimit; else none (math.MaxInt64). A kept body is held
// about twice while its record is made and written, and the heap grows to
// 3x its live size between collections (gcPercent): without a limit RSS
// reached 4.3x the bodies in flight; with it the collector runs when the
// bodies of the requests in flight would reach it, cheaply (bodies hold no
// pointers). Measured in the README's --body row.
func keptBodiesMemoryLimit(cfg fetch.Config) int64 {
	if cfg.Body != fetch.BodyText && cfg.Body != fetch.BodyBase64 {
		return math.MaxInt64
	}
	c, mb := int64(cfg.Concurrency), cfg.MaxBody
	if c < 1 || mb < 1 || mb > math.MaxInt64/2/c {
		return math.MaxInt64
	}
	return max(2*c*mb, minKeptBodiesLimit)
}

// minKeptBodiesLimit is the least memory limit set for kept bodies: below
// it gather's own heap (input, templates, buffers) would keep the
// collector running.
const minKeptBodiesLimit = 64 << 20
