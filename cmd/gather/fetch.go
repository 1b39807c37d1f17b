package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"runtime/debug"
	"time"

	"github.com/gogather/gather/cluster"
	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/run"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
)

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
			f.retryFailedSet, f.concurrencySet = fl.Changed("retry-failed"), fl.Changed("concurrency")
			f.cluster.changed(fl)
			f.bodySet = fl.Changed("data") || f.jsonSet
			f.reads = readFiles(cmd, args) // standard input too, if a file
			return runFetch(cmd.Context(), name, &f)
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// runFetch runs gather fetch: the flags become a fetch stage, a sink and a
// job, which package run runs; signals become its stop.
func runFetch(ctx context.Context, name string, f *fetchFlags) error {
	if err := f.buildConfig(); err != nil {
		return err
	}
	sig, ctx := listenSignals(ctx, f.quiet) // from here on, Ctrl-C stops the run
	defer sig.close()
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(keptBodiesMemoryLimit(f.cfg))
	}
	// net/http logs some events of its connections through the log
	// package: the terminal gets the records and the summary, nothing else.
	log.SetOutput(io.Discard)
	defer log.SetOutput(os.Stderr)
	body, err := f.readBody()
	if err != nil {
		return err
	}
	format, err := run.FormatOf(f.inputFormat, name)
	if err != nil {
		return usageError("--input-format %v", err)
	}
	reqs, err := f.requests(format, body)
	if err != nil {
		return err
	}
	f.setBodyType()
	// Everything is checked before the output is created: a usage error
	// never truncates an existing file.
	if err := f.checkRecordOutput(); err != nil {
		return err
	}
	in, err := openInput(name)
	if err != nil {
		return err
	}
	defer in.Close()
	cfg := run.Config{Format: format, JobName: f.job}
	if f.retryFailed != "" {
		if cfg.Retry, err = parseRetry(f.retryFailed); err != nil {
			return err
		}
		if cfg.Check, err = in.second(); err != nil {
			return usageError("%v", err)
		}
	}
	client, err := fetch.New(f.cfg)
	if err != nil {
		return usageError("%v", err)
	}
	defer client.Close()
	cfg.Stage = run.Fetch{Client: client, Requests: reqs}
	var js jetstream.JetStream // the cluster's, reached before the job file is made
	if f.cluster.url != "" {
		var nc *nats.Conn
		if nc, js, err = f.cluster.connect("gather coordinator", false); err != nil {
			return err
		}
		defer nc.Close()
	}
	if f.job != "" {
		if cfg.Job, err = openFetchJob(ctx, f, format, body); err != nil {
			return interruptedOr(sig, false, err)
		}
		defer cfg.Job.Close() // Run closes it; this is for the errors before
		// The job file exists now: an output that reaches it by another
		// name (a linked directory) is found by identity.
		if err := samefileCheck(f.outputs(), jobFiles(f.job)); err != nil {
			return err
		}
		cfg.Grace = f.grace
	}
	var coord *cluster.Coordinator
	if js != nil {
		if coord, err = f.coordinator(ctx, js, cfg.Job, reqs, client); err != nil {
			return interruptedOr(sig, false, err)
		}
		defer func() {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := coord.Finish(fctx); err != nil && !f.quiet {
				fmt.Fprintf(stdio.err, "gather: the job's streams were not all removed from the server: %v\n", err)
			}
		}()
		if !f.quiet {
			coord.Note = func(msg string) { fmt.Fprintln(stdio.err, "\ngather: "+msg) }
		}
		cfg.Stage = coord
	}
	if f.cfg.Body == fetch.BodyDir {
		release, err := run.ClaimBodyDir(f.cfg.BodyDir)
		if errors.Is(err, run.ErrBodyDirInUse) {
			return usageError("--body %s", err)
		} else if err != nil {
			return &exitError{exitRuntime, fmt.Errorf("--body %w", err)}
		}
		defer release()
	}
	sink, fromJob, closeOut, err := f.sink(cfg.Job != nil)
	if err != nil {
		return err
	}
	if coord != nil {
		coord.JSONOnly = sink == nil || f.format != "csv"
	}
	defer closeOut()
	cfg.Sink = sink
	res, err := runAttached(ctx, sig, cfg, in, f.quiet, f.retryFailed != "", client)
	if coord != nil {
		if cerr := coord.Err(); cerr != nil && err == nil {
			err = &exitError{exitRuntime, fmt.Errorf("--cluster: %w", cerr)}
		}
		if !f.quiet {
			writeWorkers(stdio.err, coord)
		}
	}
	if err == nil {
		err = closeOut()
	}
	if fromJob && res.Started {
		// Whatever ended the run (its end, Ctrl-C, a full disk), -o holds
		// every result stored, once each, in input order.
		if werr := run.WriteFromJob(context.WithoutCancel(ctx), f.job, f.output, f.newWriter); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return interruptedOr(sig, res.Started, fetchError(err, f))
	}
	if note := openFilesNote(client.Concurrency()); note != "" && !f.quiet {
		fmt.Fprintln(stdio.err, note)
	}
	if f.statsFile != "" {
		var stats any = res.Summary
		if coord != nil { // the summary, and the workers'
			dups, _ := coord.Duplicates()
			stats = struct {
				run.Summary
				Workers     []cluster.WorkerCount `json:"workers"`
				Duplicates  int64                 `json:"duplicates_dropped"`
				Republished int64                 `json:"republished"`
			}{res.Summary, coord.Workers(), dups, coord.Republished()}
		}
		if err := writeStats(f.statsFile, stats); err != nil {
			return err
		}
	}
	return runExit(res, sig)
}
