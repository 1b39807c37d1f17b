package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/run"
)

// runAttached runs a bulk command's run (fetch, run) from the terminal:
// the input made interruptible (an idle standard input does not hold a
// run that stops), the signals attached, the progress display (unless
// quiet) counting a regular input's records beside the run (not when
// retrying: the failures to run again are not the input's lines), and the
// summary written after it.
func runAttached(ctx context.Context, sig *signals, cfg run.Config, in *inputFile, quiet, retrying bool, client *fetch.Client) (run.Result, error) {
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	cfg.Input, cfg.OnStop = newInterruptibleReader(readCtx, in.r), stopReading
	var prog *progress
	if !quiet {
		prog = newProgress()
	}
	if prog != nil && in.size >= 0 && !retrying {
		if cfg.Job != nil {
			if p, err := cfg.Job.Progress(ctx); err == nil {
				prog.base = p.Stored
			}
		}
		stop := prog.countLinesFrom(readCtx, in.file, in.off, cfg.Format == run.CSV)
		defer stop()
	}
	cfg.Log = logWriter(quiet, prog)
	cfg.Progress = func(p run.Progress) {
		prog.update(progressState{Done: p.Done, Failed: p.Failed, Load: client.Load()})
	}
	r := run.New(cfg)
	sig.attach(r, cfg.Grace)
	res, err := r.Run(ctx)
	prog.finish()
	return res, err
}

// runExit is the exit of a bulk run (fetch, run, demo) that ended without
// an error: 3 when its output was closed, 130 after a signal, 1 when any
// input failed, else 0.
func runExit(res run.Result, sig *signals) error {
	switch {
	case res.OutputClosed != nil:
		return &exitError{exitRuntime, fmt.Errorf("the output was closed (broken pipe): stopped after %d records, nothing new started", res.Records)}
	case sig.signalled():
		return &exitError{code: exitInterrupted}
	case res.AnyFailed():
		return &exitError{code: exitSomeFailed}
	}
	return nil
}

// writeStats writes a run's summary as JSON to path (--stats).
func writeStats(path string, sum any) error {
	b, _ := json.MarshalIndent(sum, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return &exitError{exitRuntime, fmt.Errorf("--stats: %w", err)}
	}
	return nil
}

// jobRunError gives an error that ended a bulk run with the job jobName
// its exit code.
func jobRunError(err error, jobName string) error {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.Is(err, run.ErrInterruptedEarly):
		return &exitError{exitInterrupted, err}
	case errors.Is(err, job.ErrOtherInput):
		return &exitError{exitUsage, fmt.Errorf("--job %s: %w", jobName, err)}
	case errors.As(err, new(*run.InputError)):
		return &exitError{exitRuntime, fmt.Errorf("--job %s: %w", jobName, err)}
	}
	return &exitError{exitRuntime, err}
}
