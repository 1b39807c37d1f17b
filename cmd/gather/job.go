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
