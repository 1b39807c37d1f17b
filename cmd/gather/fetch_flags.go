package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/human"
	"github.com/gogather/gather/internal/samefile"
	"github.com/gogather/gather/output"
	"github.com/spf13/pflag"
)

type fetchFlags struct {
	clientFlags
	method         string
	headers        []string
	data           string
	json           string // --json: the body, sent as JSON
	output         string
	statsFile      string
	body           string
	quiet          bool
	inputFormat    string
	urlTemplate    string
	keep           []string
	format         string
	fields         []string
	job            string
	retryFailed    string
	grace          time.Duration
	bodyHead       sizeFlag
	outputSet      bool // -o was given
	graceSet       bool // --grace was given
	methodSet      bool // -X was given
	bodySet        bool // --data or --json was given
	jsonSet        bool // --json was given
	jobSet         bool // --job was given
	statsSet       bool // --stats was given
	retryFailedSet bool // --retry-failed was given
	concurrencySet bool // -c was given
	cluster        clusterFlags
	input          string           // the input's name
	reads          []samefile.Named // the files the run reads, which no output may be
}

// register defines the flags of gather fetch.
func (f *fetchFlags) register(fl *pflag.FlagSet) {
	f.clientFlags.register(fl)
	fl.IntVarP(&f.cfg.Concurrency, "concurrency", "c", 64, "requests in flight in all")
	fl.StringVarP(&f.method, "method", "X", "GET", "HTTP method (POST with --data or --json, as curl)")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, `header "Name: value" for every request, a template (repeatable)`)
	fl.StringVar(&f.data, "data", "", "request body, a template; @FILE reads it from FILE; sent as application/x-www-form-urlencoded (as curl's -d) unless -H sets a Content-Type")
	fl.StringVar(&f.json, "json", "", "request body sent as JSON (as curl's --json): --data with Content-Type and Accept application/json unless -H sets them")
	fl.StringVar(&f.inputFormat, "input-format", "auto", "lines, csv or jsonl (auto: by the file's extension, else lines)")
	fl.StringVar(&f.urlTemplate, "url", "", "URL template over each input's fields (default: the input's url field)")
	fl.StringSliceVar(&f.keep, "keep", nil, "input fields to copy into each record's input object (comma-separated); with --format csv, columns input.NAME")
	fl.StringVar(&f.body, "body", "hash", "what to keep of bodies: hash, text, base64, head, or dir:DIR")
	f.bodyHead = 1024
	fl.Var(&f.bodyHead, "body-head", "bytes kept with --body head (a size: 512, 4k, 1KiB)")
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
	f.cluster.register(fl)
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
	if err := f.clientFlags.check(); err != nil {
		return err
	}
	if f.grace < 0 {
		return usageError("--grace must not be negative, got %v", f.grace)
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
	if f.retryFailedSet && strings.TrimSpace(f.retryFailed) == "" {
		return usageError("--retry-failed=: an empty filter; give all (or nothing after the flag), or kinds, statuses and classes (dns,503,5xx)")
	}
	if f.retryFailed != "" && f.job == "" {
		return usageError("--retry-failed needs --job")
	}
	if f.graceSet && f.job == "" {
		return usageError("--grace needs --job (without a job, Ctrl-C cancels the requests in flight at once)")
	}
	if f.jsonSet && f.data != "" {
		return usageError("--data and --json both give the body: give one")
	}
	return f.cluster.check(f, f.concurrencySet)
}

// buildConfig completes the engine configuration from the flags.
func (f *fetchFlags) buildConfig() error {
	if err := f.checkFlags(); err != nil {
		return err
	}
	if err := f.clientFlags.build(); err != nil {
		return err
	}
	f.cfg.BodyHead = int(f.bodyHead)
	if f.bodySet && !f.methodSet {
		f.method = "POST" // as curl's -d and --json
	}
	if f.jsonSet {
		f.data = f.json // the body, as --data: a template, or @FILE
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
	if err := f.checkBodyDir(outs); err != nil {
		return err
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

// isRegularOrNew reports whether path is a regular file (after links) or
// does not exist yet.
func isRegularOrNew(path string) bool {
	st, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist) || err == nil && st.Mode().IsRegular()
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

// bodyName matches the names the dir body policy writes: LINE.body, and
// the .part-DIGITS files it writes them through.
var bodyName = regexp.MustCompile(`^([0-9]+\.body|\.part-[0-9]+)$`)

// checkBodyDir refuses a --body dir:DIR where a file the run reads or
// writes (the input, the job, -o, --stats...) has the name of a body:
// the run would overwrite it with a body (a job named 1.body in DIR was
// lost so).
func (f *fetchFlags) checkBodyDir(outs []samefile.Named) error {
	if f.cfg.Body != fetch.BodyDir {
		return nil
	}
	dir, err := os.Stat(f.cfg.BodyDir)
	if err != nil {
		return nil // made later, empty
	}
	for _, n := range append(slices.Clone(f.reads), outs...) {
		if n.Path == "" || !bodyName.MatchString(filepath.Base(n.Path)) {
			continue
		}
		if d, err := os.Stat(filepath.Dir(n.Path)); err == nil && os.SameFile(d, dir) {
			return usageError("--body dir:%s would overwrite %s %s with a body (bodies are named LINE.body): rename it or choose another directory", f.cfg.BodyDir, n.Name, n.Path)
		}
	}
	return nil
}
