package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/redact"
	"github.com/gogather/gather/job"
)

// jobSettings lists the settings that define a job's results: a run with
// other values is refused. Pace (concurrency, rates, per-host limits),
// retries and timeouts may change from run to run.
func jobSettings(f *fetchFlags, format string, body []byte) []job.Setting {
	data := f.data
	if strings.HasPrefix(data, "@") {
		sum := sha256.Sum256(body)
		data = "sha256:" + hex.EncodeToString(sum[:]) // the file's content, not its name
	}
	// Keys are stable (the job file keeps them); names are the flags, for
	// messages, and may change.
	return []job.Setting{
		{Key: "input_format", Name: "--input-format", Value: format},
		{Key: "url_template", Name: "--url", Value: f.urlTemplate, URLs: true}, // a userinfo secret kept hashed
		{Key: "method", Name: "--method", Value: f.method},
		{Key: "headers", Name: "--header", Value: strings.Join(f.headers, "\n"), Headers: true}, // secrets kept hashed
		{Key: "body", Name: "--data", Value: data, URLs: true},
		{Key: "keep", Name: "--keep", Value: strings.Join(f.keep, ",")},
		{Key: "body_policy", Name: "--body", Value: f.body},
		{Key: "body_head", Name: "--body-head", Value: strconv.Itoa(f.cfg.BodyHead)},
		{Key: "max_body", Name: "--max-body", Value: strconv.FormatInt(f.cfg.MaxBody, 10)},
		{Key: "max_redirects", Name: "--max-redirects", Value: strconv.Itoa(f.cfg.MaxRedirects)},
	}
}

// openFetchJob opens the --job file for a run, with the errors a user can
// act on as one line: usage errors (exit 2) for a file that is not a job or
// a job of other settings, runtime errors (exit 3) otherwise.
func openFetchJob(ctx context.Context, f *fetchFlags, format string, body []byte) (*job.Job, error) {
	cfg := f.cfg
	cfg.TLS = nil // not JSON; the flags say it
	// The runs table keeps the run's settings for reading, not comparing:
	// a secret header's value is not kept at all, nor (job.Open masks
	// them with redact) the password of a URL.
	cfg.Header = f.cfg.Header.Clone()
	for name := range cfg.Header {
		if redact.SensitiveHeader(name) {
			cfg.Header[name] = []string{redact.Mask}
		}
	}
	run := struct {
		fetch.Config
		Input    string
		Insecure bool
		CACert   string
	}{cfg, f.input, f.insecure, f.caCert}
	j, err := job.Open(ctx, f.job, jobSettings(f, format, body), run)
	switch {
	case err == nil:
		return j, nil
	case errors.Is(err, job.ErrNotJob), errors.Is(err, job.ErrSettings), errors.Is(err, job.ErrDamaged):
		return nil, &exitError{exitUsage, fmt.Errorf("--job: %w", err)}
	}
	return nil, &exitError{exitRuntime, fmt.Errorf("--job: %w", err)}
}

// jobSummary prints where the job stands, and makes the exit code the
// job's: 1 when any input of the job failed. A run that found every input
// stored already says so, with the job's totals, rather than a summary of
// nothing.
func jobSummary(ctx context.Context, j *job.Job, f *fetchFlags, sum *runSummary) error {
	p, err := j.Progress(ctx)
	if err != nil {
		return &exitError{exitRuntime, err}
	}
	sum.jobFailed = p.Failed
	if f.quiet {
		return nil
	}
	w := stdio.err
	if p.New == 0 && p.Total >= 0 && p.Stored >= p.Total && !sum.interrupted && sum.outputClosed == nil {
		fmt.Fprintf(w, "job %s: all %d inputs are already stored: %d ok, %d failed; nothing was fetched (gather report %s shows the job's figures", f.job, p.Total, p.Stored-p.Failed, p.Failed, f.job)
		if p.Failed > 0 {
			fmt.Fprintf(w, "; --retry-failed runs the failures again")
		}
		fmt.Fprintln(w, ")")
		return nil
	}
	if p.Total >= 0 {
		fmt.Fprintf(w, "job %s: %d of %d inputs have a result (%d ok, %d failed)", f.job, p.Stored, p.Total, p.Stored-p.Failed, p.Failed)
	} else {
		fmt.Fprintf(w, "job %s: %d inputs have a result (%d ok, %d failed); the number of inputs is known once the input is read to its end", f.job, p.Stored, p.Stored-p.Failed, p.Failed)
	}
	fmt.Fprintf(w, "; this run stored %d", p.New)
	if p.Skipped > 0 {
		fmt.Fprintf(w, " and skipped %d stored before", p.Skipped)
	}
	fmt.Fprintln(w)
	if sum.interrupted || sum.outputClosed != nil || (p.Total < 0 || p.Stored < p.Total) {
		fmt.Fprintf(w, "gather: stopped; every finished result is stored: run the same command again to resume\n")
	}
	return nil
}
