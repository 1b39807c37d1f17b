package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/flow"
	"github.com/gogather/gather/internal/atomicfile"
	"github.com/gogather/gather/internal/samefile"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
	"github.com/gogather/gather/run"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runFlags are the flags of gather run.
type runFlags struct {
	clientFlags
	input        string // --input: "" runs the flow once
	inputFormat  string
	records      int // -c: records in flight
	ordered      bool
	requests     int // --requests: HTTP requests in flight in all; 0: records x the flow's width
	output       string
	format       string
	statsFile    string
	quiet        bool
	job          string
	retryFailed  string
	grace        time.Duration
	outputSet    bool
	graceSet     bool
	jobSet       bool
	statsSet     bool
	retrySet     bool
	inputSet     bool
	batchOnly    []string // flags given that apply with --input only
	maxOutput    sizeFlag
	flowPath     string
	reads        []samefile.Named
	flowChecksum string
}

func (f *runFlags) register(fl *pflag.FlagSet) {
	f.clientFlags.register(fl)
	fl.StringVar(&f.input, "input", "", "run the flow once per record of this file (- for standard input): plain lines, CSV or JSONL")
	fl.StringVar(&f.inputFormat, "input-format", "auto", "lines, csv or jsonl (auto: by the file's extension, else lines)")
	fl.IntVarP(&f.records, "concurrency", "c", 16, "with --input: records in flight")
	f.maxOutput = flow.DefaultMaxOutput
	fl.Var(&f.maxOutput, "max-output", "largest standard output an exec step keeps; more stops the process (too_large) (a size: 10MiB, 512k)")
	fl.BoolVar(&f.ordered, "ordered", false, "with --input: write records in input order (a bounded window)")
	fl.IntVar(&f.requests, "requests", 0, "HTTP requests in flight in all, every step and record (0: -c times the most requests one record can have in flight)")
	fl.StringVarP(&f.output, "output", "o", "-", "write the result(s) to this file instead of standard output (with --job, records go to the job file, and to -o only if given)")
	fl.StringVar(&f.format, "format", "jsonl", "output format: jsonl (one JSON object per record) or csv (line, the output's keys, error)")
	fl.StringVar(&f.statsFile, "stats", "", "with --input: also write the summary as JSON to this file")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress and no summary on standard error")
	fl.StringVar(&f.job, "job", "", "with --input: keep the run in this SQLite job file: run the same command again to resume it; no step of a stored record runs again")
	fl.StringVar(&f.retryFailed, "retry-failed", "", "with --job: run the failed records again: all, or error kinds and statuses (timeout,assert,5xx)")
	fl.Lookup("retry-failed").NoOptDefVal = "all"
	fl.DurationVar(&f.grace, "grace", 10*time.Second, "with --job: on Ctrl-C or SIGTERM, how long records in flight may finish")
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FLOW.yaml [--input FILE|-]",
		Short: "Run a flow of HTTP requests and processes once, or once per input record",
		Long: `Run runs a flow file: named steps (http: requests, exec: processes) that
start as soon as the steps they need have ended. Without --input the flow
runs once and its result is printed as one JSON object:

  {"output": ..., "steps": {"NAME": {"status": "ok", "ms": 12.5}, ...}}

with "error": {"step", "kind", "message"} when it failed. With --input it
runs once per record (plain lines, CSV or JSONL, as gather fetch reads
them; .input is the record), -c records at a time, one JSON line per record
with its "line". Steps of every record share the HTTP limits (--per-host,
--rate, --requests). With --job the run resumes where it stopped, and a
record stored is never run again. gather check validates a flow without
running it.`,
		Example: `  gather run flow.yaml
  gather run flow.yaml --input users.jsonl -c 50 -o out.jsonl --job users.job`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			f.outputSet, f.graceSet, f.jobSet = fl.Changed("output"), fl.Changed("grace"), fl.Changed("job")
			f.statsSet, f.retrySet, f.inputSet = fl.Changed("stats"), fl.Changed("retry-failed"), fl.Changed("input")
			f.flowPath = args[0]
			for _, name := range []string{"concurrency", "ordered", "input-format"} {
				if fl.Changed(name) {
					f.batchOnly = append(f.batchOnly, "--"+name)
				}
			}
			return runFlow(cmd.Context(), &f)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// check checks the flags, before anything is read or created.
func (f *runFlags) check() error {
	if err := f.clientFlags.check(); err != nil {
		return err
	}
	batch := f.input != ""
	switch {
	case f.inputSet && f.input == "":
		return usageError("--input: empty file name (- is standard input)")
	case f.records < 1 || f.records > maxConcurrency:
		return usageError("--concurrency must be 1 to %d, got %d", maxConcurrency, f.records)
	case f.requests < 0 || f.requests > maxConcurrency:
		return usageError("--requests must be 0 (automatic) to %d, got %d", maxConcurrency, f.requests)
	case f.format != "jsonl" && f.format != "csv":
		return usageError("--format %q: want jsonl or csv", f.format)
	case f.outputSet && f.output == "":
		return usageError("-o: empty file name (- is standard output)")
	case f.jobSet && f.job == "":
		return usageError("--job: empty file name")
	case f.statsSet && f.statsFile == "":
		return usageError("--stats: empty file name")
	case f.maxOutput < 1 || f.maxOutput > 1<<30:
		return usageError("--max-output must be 1 byte to 1 GiB, got %d", f.maxOutput)
	case f.grace < 0:
		return usageError("--grace must not be negative, got %v", f.grace)
	case !batch && f.job != "":
		return usageError("--job needs --input: a job keeps the results of a run over many records")
	case !batch && f.statsSet:
		return usageError("--stats needs --input")
	case f.retrySet && f.job == "":
		return usageError("--retry-failed needs --job")
	case f.retrySet && f.retryFailed == "":
		return usageError("--retry-failed=: an empty filter; give all (or nothing after the flag), or kinds and statuses (timeout,5xx)")
	case f.graceSet && f.job == "":
		return usageError("--grace needs --job (without a job, Ctrl-C cancels the records in flight at once)")
	case !batch && len(f.batchOnly) > 0:
		return usageError("%s needs --input: without it the flow runs once", f.batchOnly[0])
	case f.flowPath == "-" && f.input == "-":
		return usageError("the flow and --input cannot both be standard input")
	}
	return nil
}

// runFlow runs gather run.
func runFlow(ctx context.Context, f *runFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	fl, data, err := readFlowFile(f.flowPath)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	f.flowChecksum = "sha256:" + hex.EncodeToString(sum[:])
	if err := f.clientFlags.build(); err != nil {
		return err
	}
	f.cfg.Concurrency = f.requests
	if f.cfg.Concurrency == 0 {
		f.cfg.Concurrency = min(f.records*flowWidth(fl), maxConcurrency)
		if f.input == "" {
			f.cfg.Concurrency = flowWidth(fl)
		}
	}
	f.cfg.Body = fetch.BodyHash // steps take the whole response (DoResponse); records keep nothing
	f.reads = f.readFiles()
	if err := f.checkOutputs(); err != nil {
		return err
	}
	sig, ctx := listenSignals(ctx, f.quiet)
	defer sig.close()
	log.SetOutput(io.Discard) // net/http's connection notes
	defer log.SetOutput(os.Stderr)
	client, err := fetch.New(f.cfg)
	if err != nil {
		return usageError("%v", err)
	}
	defer client.Close()
	engine, err := flow.NewEngine(fl, flow.Config{Client: client, MaxOutput: int(f.maxOutput)})
	if err != nil {
		return usageError("%v", err)
	}
	newWriter := func(w io.Writer) output.JSONWriter { return output.JSONL(w).(output.JSONWriter) }
	if f.format == "csv" {
		newWriter = func(w io.Writer) output.JSONWriter { return flow.CSV(w, fl) }
	}
	if f.input == "" {
		return f.runOnce(ctx, sig, engine, newWriter)
	}
	return f.runRecords(ctx, sig, engine, client, newWriter)
}

// flowWidth is the most HTTP requests one run of the flow can have in
// flight: its http steps, a for_each step counting its concurrency.
func flowWidth(fl *flow.Flow) int {
	n := 0
	for _, s := range fl.Steps {
		if s.HTTP == nil {
			continue
		}
		switch {
		case s.ForEach == "":
			n++
		case s.Concurrency > 0:
			n += s.Concurrency
		default:
			n += flow.DefaultConcurrency
		}
	}
	return max(n, 1)
}

// readFiles names the files the run reads, which no output may be.
func (f *runFlags) readFiles() []samefile.Named {
	var files []samefile.Named
	if f.flowPath != "-" {
		files = append(files, samefile.Named{Name: "the flow", Path: f.flowPath})
	}
	switch f.input {
	case "":
	case "-":
		if in, ok := stdinFile(); ok {
			files = append(files, in)
		}
	default:
		files = append(files, samefile.Named{Name: "the input", Path: f.input})
	}
	if f.job != "" {
		for _, suffix := range []string{"", "-wal", "-journal", "-shm"} {
			files = append(files, samefile.Named{Name: "the job file", Path: f.job + suffix})
		}
	}
	if f.caCert != "" {
		files = append(files, samefile.Named{Name: "--cacert", Path: f.caCert})
	}
	return files
}

// checkOutputs refuses an output that is a file the run reads, or a
// directory, and a --job or --stats whose directory does not exist.
func (f *runFlags) checkOutputs() error {
	var outs []samefile.Named
	if f.output != "-" {
		outs = append(outs, samefile.Named{Name: "-o", Path: f.output})
	}
	if f.statsFile != "" {
		outs = append(outs, samefile.Named{Name: "--stats", Path: f.statsFile})
	}
	for i := range outs {
		if err := samefile.Check(outs[i:i+1], append(slices.Clone(f.reads), outs[:i]...)); err != nil {
			return usageError("%v", err)
		}
		if st, err := os.Stat(outs[i].Path); err == nil && st.IsDir() {
			return usageError("%s %s is a directory; want a file", outs[i].Name, outs[i].Path)
		}
	}
	for _, p := range []struct{ name, path string }{{"--job", f.job}, {"--stats", f.statsFile}} {
		if p.path == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(p.path)); err != nil || !st.IsDir() {
			return usageError("%s %s: no such directory %s", p.name, p.path, filepath.Dir(p.path))
		}
	}
	return nil
}

// runOnce runs the flow once and writes its result.
func (f *runFlags) runOnce(ctx context.Context, sig *signals, engine *flow.Engine, newWriter func(io.Writer) output.JSONWriter) error {
	res := engine.Run(ctx, nil) // a signal cancels ctx (no run is attached)
	b, _ := res.AppendJSON(nil, 0)
	write := func(out io.Writer) error {
		w := newWriter(out)
		if err := w.WriteJSON(0, b); err != nil {
			return err
		}
		return w.Flush()
	}
	switch {
	case f.output == "-":
		if err := write(stdio.out); err != nil {
			if isClosedOutput(err) {
				return &exitError{exitRuntime, errors.New("the output was closed (broken pipe)")}
			}
			return &exitError{exitRuntime, fmt.Errorf("writing the result: %w", err)}
		}
	case res.Canceled:
		// A file keeps what an earlier run wrote rather than a result
		// cut short.
	default:
		if err := atomicfile.Write(f.output, write); err != nil {
			return &exitError{exitRuntime, fmt.Errorf("-o: %w", err)}
		}
	}
	switch {
	case sig.signalled() || res.Canceled:
		if !f.quiet {
			if f.output == "-" {
				fmt.Fprintln(stdio.err, "gather: interrupted: the steps in flight were stopped (the result says which)")
			} else {
				fmt.Fprintf(stdio.err, "gather: interrupted: the steps in flight were stopped; %s was left as it was\n", f.output)
			}
		}
		return &exitError{code: exitInterrupted}
	case res.Err != nil:
		if !f.quiet {
			fmt.Fprintf(stdio.err, "gather: %v\n", res.Err)
		}
		return &exitError{code: exitSomeFailed}
	}
	return nil
}

// runRecords runs the flow once per input record through package run.
func (f *runFlags) runRecords(ctx context.Context, sig *signals, engine *flow.Engine, client *fetch.Client, newWriter func(io.Writer) output.JSONWriter) error {
	format, err := run.FormatOf(f.inputFormat, f.input)
	if err != nil {
		return usageError("--input-format %v", err)
	}
	in, err := openInput(f.input)
	if err != nil {
		return err
	}
	defer in.Close()
	cfg := run.Config{Format: format, JobName: f.job, Stage: flow.Stage{Engine: engine, Concurrency: f.records, Ordered: f.ordered}}
	if f.retryFailed != "" {
		if cfg.Retry, err = f.parseRetry(); err != nil {
			return err
		}
		if cfg.Check, err = in.second(); err != nil {
			return usageError("%v", err)
		}
	}
	if f.job != "" {
		if cfg.Job, err = f.openJob(ctx, format); err != nil {
			return interruptedOr(sig, false, err)
		}
		defer cfg.Job.Close()
		if err := samefileCheck(f.outputNames(), jobFiles(f.job)); err != nil {
			return err
		}
		cfg.Grace = f.grace
	}
	fromJob := cfg.Job != nil && f.outputSet && f.output != "-" && isRegularOrNew(f.output)
	closeOut := func() error { return nil }
	switch {
	case cfg.Job != nil && (!f.outputSet || fromJob): // the records go to the job file
	case f.output == "-":
		cfg.Sink = flow.Lines(newWriter(stdio.out))
	default:
		file, err := os.Create(f.output)
		if err != nil {
			return &exitError{exitRuntime, fmt.Errorf("-o: %w", err)}
		}
		var once sync.Once
		var cerr error
		closeOut = func() error {
			once.Do(func() {
				if cerr = file.Close(); cerr != nil {
					cerr = &exitError{exitRuntime, fmt.Errorf("-o: %w", cerr)}
				}
			})
			return cerr
		}
		defer closeOut()
		cfg.Sink = flow.Lines(newWriter(file))
	}
	res, err := runAttached(ctx, sig, cfg, in, f.quiet, f.retryFailed != "", client)
	if err == nil {
		err = closeOut()
	}
	if fromJob && res.Started {
		if werr := run.WriteFromJob(context.WithoutCancel(ctx), f.job, f.output, func(w io.Writer) output.Writer { return newWriter(w) }); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return interruptedOr(sig, res.Started, jobRunError(err, f.job))
	}
	if f.statsFile != "" {
		if err := writeStats(f.statsFile, res.Summary); err != nil {
			return err
		}
	}
	return runExit(res, sig)
}

func (f *runFlags) outputNames() []samefile.Named {
	var outs []samefile.Named
	if f.output != "-" {
		outs = append(outs, samefile.Named{Name: "-o", Path: f.output})
	}
	if f.statsFile != "" {
		outs = append(outs, samefile.Named{Name: "--stats", Path: f.statsFile})
	}
	return outs
}

// jobSettings are what define a flow job's results: the flow file's
// content and the input's format. A run with another flow is refused.
func (f *runFlags) jobSettings(format run.Format) []job.Setting {
	return []job.Setting{
		{Key: "input_format", Name: "--input-format", Value: string(format)},
		{Key: "flow", Name: "the flow file's content", Value: f.flowChecksum},
		{Key: "max_body", Name: "--max-body", Value: fmt.Sprint(f.cfg.MaxBody)},
	}
}

// openJob opens (or creates) the job file of a flow run.
func (f *runFlags) openJob(ctx context.Context, format run.Format) (*job.Job, error) {
	cfg := f.cfg
	cfg.TLS = nil
	runSettings := struct {
		fetch.Config
		Flow, Input string
		Records     int
	}{cfg, f.flowPath, f.input, f.records}
	j, err := job.Open(ctx, f.job, f.jobSettings(format), runSettings)
	switch {
	case err == nil:
		return j, nil
	case errors.Is(err, job.ErrSettings) && !f.isFlowJobFile(ctx):
		return nil, usageError("--job %s is a job of gather fetch, not of a flow: give gather run a job file of its own", f.job)
	case errors.Is(err, job.ErrNotJob), errors.Is(err, job.ErrSettings), errors.Is(err, job.ErrDamaged):
		return nil, &exitError{exitUsage, fmt.Errorf("--job: %w", err)}
	}
	return nil, &exitError{exitRuntime, fmt.Errorf("--job: %w", err)}
}

// parseRetry parses --retry-failed for a flow job: kinds of steps' errors
// (fetch's and the flow's) and statuses.
func (f *runFlags) parseRetry() (*job.Filter, error) {
	flt, err := job.ParseFilter(f.retryFailed, flow.Kinds()...)
	switch {
	case err != nil:
		return nil, usageError("--retry-failed: %v", err)
	case flt.OK:
		return nil, usageError("--retry-failed %s: a retry runs failed records again, and ok selects none", f.retryFailed)
	}
	return flt, nil
}

// isFlowJobFile reports whether the job file --job names was made by
// gather run (false when it cannot be read).
func (f *runFlags) isFlowJobFile(ctx context.Context) bool {
	r, err := job.OpenReader(ctx, f.job)
	if err != nil {
		return true // say nothing more than job.Open did
	}
	defer r.Close()
	meta, err := r.Meta(ctx)
	return err != nil || isFlowJob(meta)
}
