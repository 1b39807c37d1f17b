package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/gogather/gather/internal/samefile"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
	"github.com/gogather/gather/run"
	"github.com/gogather/gather/template"
)

// readBody returns the body of --data or --json: the flag's text, or with
// @FILE the file's bytes; nil without either.
func (f *fetchFlags) readBody() ([]byte, error) {
	switch {
	case strings.HasPrefix(f.data, "@"):
		b, err := os.ReadFile(f.data[1:])
		if err != nil {
			name := "--data"
			if f.jsonSet {
				name = "--json"
			}
			return nil, usageError("%s %s: %v", name, f.data, err)
		}
		return b, nil
	case f.bodySet:
		return []byte(f.data), nil
	}
	return nil, nil
}

// requests parses the request templates of the flags.
func (f *fetchFlags) requests(format run.Format, body []byte) (*template.Requests, error) {
	if format == run.Lines {
		for _, k := range f.keep {
			if k != "url" {
				return nil, usageError("--keep %q: plain lines have only the field url", k)
			}
		}
	}
	reqs, err := template.NewRequests(template.RequestSpec{
		Method: f.method, URL: f.urlTemplate, Headers: f.headers, Body: body, Keep: f.keep,
		Labels: template.Labels{URL: "--url", Header: "-H", Body: "--data"},
	})
	if err != nil {
		return nil, usageError("%v", err)
	}
	return reqs, nil
}

// checkRecordOutput checks --keep's columns, --format and --fields, and
// the output files against the files the run reads.
func (f *fetchFlags) checkRecordOutput() error {
	if err := f.keptColumns(); err != nil {
		return err
	}
	if err := checkRecordFormat(f.format, f.fields); err != nil {
		return err
	}
	return f.checkOutputs()
}

// newWriter returns a writer of records in --format (and --fields).
func (f *fetchFlags) newWriter(w io.Writer) output.Writer {
	if f.format == "csv" {
		c, _ := output.CSV(w, f.fields) // checked before the run
		return c
	}
	return output.JSONL(w)
}

// sink returns where the run's records go. With a job, a regular -o file
// is written from the job at the end of every run (fromJob): records
// stream only to standard output or to a file that is not regular (a
// pipe, a device). closeOut closes -o, once.
func (f *fetchFlags) sink(withJob bool) (sink run.Sink, fromJob bool, closeOut func() error, err error) {
	fromJob = withJob && f.outputSet && f.output != "-" && isRegularOrNew(f.output)
	closeOut = func() error { return nil }
	switch {
	case withJob && (!f.outputSet || fromJob):
		return nil, fromJob, closeOut, nil // the records go to the job file
	case f.output == "-":
		return run.Records(f.newWriter(stdio.out)), false, closeOut, nil
	}
	file, err := os.Create(f.output)
	if err != nil {
		return nil, false, nil, &exitError{exitRuntime, fmt.Errorf("-o: %w", err)}
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
	return run.Records(f.newWriter(file)), false, closeOut, nil
}

// inputFile is the input of gather fetch: a named file or standard input.
type inputFile struct {
	name   string
	r      io.Reader
	file   *os.File // a regular file, read from off; nil otherwise
	off    int64
	size   int64 // a regular file's size; -1 otherwise
	closes []io.Closer
}

// openInput opens the input name ("-": standard input).
func openInput(name string) (*inputFile, error) {
	in := &inputFile{name: name, r: stdio.in, size: -1}
	if name == "-" {
		// gather fetch - < file: standard input is a regular file, whose
		// lines can be counted as a named file's.
		if f, ok := stdio.in.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				if off, err := f.Seek(0, io.SeekCurrent); err == nil {
					in.file, in.off, in.size = f, off, st.Size()
				}
			}
		}
		return in, nil
	}
	file, err := os.Open(name)
	if err != nil {
		return nil, usageError("%v", err)
	}
	in.closes = append(in.closes, file)
	st, err := file.Stat()
	if err == nil && st.IsDir() {
		in.Close()
		return nil, usageError("%s is a directory; want a file of inputs", name)
	}
	if err == nil && st.Mode().IsRegular() {
		in.file, in.size = file, st.Size()
	}
	in.r = file
	return in, nil
}

// second opens a named regular input a second time, for --retry-failed to
// check it is the job's (nil for standard input or a pipe).
func (in *inputFile) second() (io.Reader, error) {
	if in.name == "-" || in.size < 0 {
		return nil, nil
	}
	f, err := os.Open(in.name)
	if err != nil {
		return nil, err
	}
	in.closes = append(in.closes, f)
	return f, nil
}

// Close closes the files opened.
func (in *inputFile) Close() error {
	for _, c := range in.closes {
		c.Close()
	}
	in.closes = nil
	return nil
}

// samefileCheck is samefile.Check as a usage error.
func samefileCheck(outs, reads []samefile.Named) error {
	if err := samefile.Check(outs, reads); err != nil {
		return usageError("%v", err)
	}
	return nil
}

// fetchError gives an error that ended a run its exit code.
func fetchError(err error, f *fetchFlags) error { return jobRunError(err, f.job) }

// logWriter is where the run's summary goes: nowhere with -q, else
// standard error, after the progress display is cleared.
func logWriter(quiet bool, prog *progress) io.Writer {
	switch {
	case quiet:
		return nil
	case prog != nil:
		return prog
	}
	return stdio.err
}

// parseRetry parses --retry-failed: a filter of failures.
func parseRetry(s string) (*job.Filter, error) {
	f, err := run.ParseFetchFilter(s)
	switch {
	case err != nil:
		return nil, usageError("--retry-failed: %v", err)
	case f.OK:
		return nil, usageError("--retry-failed %s: a retry runs failed results again, and ok selects none", s)
	}
	return f, nil
}

// interruptedOr returns err, or when a signal came before the run started
// (while the job was opened and checked: what failed was stopped), the
// interruption (exit 130).
func interruptedOr(sig *signals, started bool, err error) error {
	if sig.signalled() && !started {
		return &exitError{exitInterrupted, errors.New("interrupted before the run started; nothing was fetched: run the same command again to resume")}
	}
	return err
}
