package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/redact"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/run"
	"github.com/gogather/gather/template"
)

// openFetchJob opens the --job file for a run, with the errors a user can
// act on as one line: usage errors (exit 2) for a file that is not a job or
// a job of other settings, runtime errors (exit 3) otherwise.
func openFetchJob(ctx context.Context, f *fetchFlags, format run.Format, body []byte) (*job.Job, error) {
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
	runSettings := struct {
		fetch.Config
		Input    string
		Insecure bool
		CACert   string
	}{cfg, f.input, f.insecure, f.caCert}
	settings := run.FetchSettings{
		Format:   format,
		Requests: template.RequestSpec{Method: f.method, URL: f.urlTemplate, Headers: f.headers, Body: body, Keep: f.keep},
		BodyFile: strings.HasPrefix(f.data, "@"), BodyPolicy: f.body,
		BodyHead: f.cfg.BodyHead, MaxBody: f.cfg.MaxBody, MaxRedirects: f.cfg.MaxRedirects,
	}
	j, err := job.Open(ctx, f.job, settings.JobSettings(), runSettings)
	switch {
	case err == nil:
		return j, nil
	case errors.Is(err, job.ErrNotJob), errors.Is(err, job.ErrSettings), errors.Is(err, job.ErrDamaged):
		return nil, &exitError{exitUsage, fmt.Errorf("--job: %w", err)}
	}
	return nil, &exitError{exitRuntime, fmt.Errorf("--job: %w", err)}
}
