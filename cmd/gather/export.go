package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/atomicfile"
	"github.com/gogather/gather/internal/redact"
	"github.com/gogather/gather/internal/samefile"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
	"github.com/gogather/gather/run"
	"github.com/spf13/cobra"
)

type exportFlags struct {
	output string
	format string
	fields []string
	order  string
	failed bool
	status []string
}

func newExportCommand() *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "export JOBFILE",
		Short: "Write a job file's results as JSON lines or CSV",
		Long: `Export writes the results stored in a job file (gather fetch --job), one
per input: JSON lines exactly as gather fetch writes them, or CSV with the
columns of --fields. It streams: a job of any size exports in constant
memory, and it only reads the file, so it can run beside a fetch that is
writing it (it sees the results stored when it started).

--order input writes the results in input order (by line), stored in the
order they were stored. --failed keeps the failed results; --status keeps
the results matching any item of a list, the grammar of gather fetch
--retry-failed: statuses (404; 0 or none: no response), classes (1xx to
5xx), error kinds (timeout_total), ok and failed, as in --status
404,429,5xx,dns. With both, a result must be failed and match --status.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(cmd.Context(), args[0], &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "-", "write to this file instead of standard output")
	fl.StringVar(&f.format, "format", "jsonl", "jsonl or csv")
	fl.StringSliceVar(&f.fields, "fields", nil, "CSV columns (default: "+strings.Join(output.DefaultCSVFields(), ",")+"; known: "+strings.Join(output.Fields(), ",")+", input.NAME for a field kept with --keep NAME)")
	fl.StringVar(&f.order, "order", "input", "input (by line) or stored (the order results were stored in)")
	fl.BoolVar(&f.failed, "failed", false, "only the failed results")
	fl.StringSliceVar(&f.status, "status", nil, "only the results matching any of: statuses (404; 0 or none: no response), classes (5xx), error kinds (dns), ok, failed; comma-separated")
	return cmd
}

// exportFilter reads --status (job.ParseFilter's grammar, the one of
// --retry-failed) and --order, or returns a usage error.
func exportFilter(f *exportFlags) (*job.Filter, error) {
	if f.order != "input" && f.order != "stored" {
		return nil, usageError("--order %q: want input or stored", f.order)
	}
	if len(f.status) == 0 && f.failed {
		return &job.Filter{Failed: true}, nil // through the index of the failures
	}
	if len(f.status) == 0 {
		return nil, nil
	}
	filter, err := run.ParseFetchFilter(strings.Join(f.status, ","))
	if err != nil {
		return nil, usageError("--status: %v", err)
	}
	return filter, nil
}

func runExport(ctx context.Context, path string, f *exportFlags) error {
	// Everything is checked before the output is created: a usage error
	// never truncates an existing file.
	if err := checkRecordFormat(f.format, f.fields); err != nil {
		return err
	}
	filter, err := exportFilter(f)
	if err != nil {
		return err
	}
	if err := samefile.Check([]samefile.Named{{Name: "-o", Path: f.output}}, jobFiles(path)); err != nil {
		return usageError("%v", err)
	}
	r, err := openJob(ctx, path)
	if err != nil {
		return err
	}
	defer r.Close()
	if f.format == "csv" {
		if meta, err := r.Meta(ctx); err == nil && isFlowJob(meta) {
			return usageError("--format csv: %s is a job of gather run, whose results are a flow's: export it as JSONL, or have gather run write the CSV (gather run FLOW --input INPUT --job %s -o FILE --format csv)", path, path)
		}
	}
	results := r.Results
	if f.order == "stored" {
		results = r.ResultsAsStored
	}
	// The first result is read before the output is created, so that a
	// file that cannot be read leaves the output alone; results are then
	// read one at a time, in one read transaction.
	next, stop := iter.Pull2(results(ctx, filter))
	defer stop()
	first, ferr, more := next()
	if more && ferr != nil {
		return &exitError{exitRuntime, fmt.Errorf("reading results: %w", ferr)}
	}
	all := func(yield func(job.Result, error) bool) {
		for res, err, ok := first, ferr, more; ok; res, err, ok = next() {
			if err == nil && f.failed && res.OK {
				continue // --failed and --status: both must hold
			}
			if !yield(res, err) {
				return
			}
		}
	}
	if f.output == "-" {
		return exportResults(all, stdio.out, f)
	}
	// A file is written under a temporary name and renamed when whole: an
	// export that fails half-way (a damaged page met late) leaves no half
	// file, and an earlier file of that name as it was.
	err = atomicfile.Write(f.output, func(w io.Writer) error { return exportResults(all, w, f) })
	if err != nil {
		if _, ok := err.(*exitError); ok {
			return err
		}
		return &exitError{exitRuntime, fmt.Errorf("-o: %w", err)}
	}
	return nil
}

// errOutputClosed is the error of gather export and gather report when
// their standard output was closed by its reader (gather export J | head
// -1): they stop, exit 3, as gather fetch does.
func errOutputClosed(what string) error {
	return &exitError{exitRuntime, fmt.Errorf("the output was closed (broken pipe): %s stopped", what)}
}

// exportResults writes each result's record to out.
func exportResults(results iter.Seq2[job.Result, error], out io.Writer, f *exportFlags) error {
	writeErr := func(err error) error {
		if isClosedOutput(err) {
			return errOutputClosed("export")
		}
		return &exitError{exitRuntime, fmt.Errorf("writing: %w", err)}
	}
	readErr := func(err error) error {
		return &exitError{exitRuntime, fmt.Errorf("reading results: %w", err)}
	}
	if f.format == "jsonl" {
		// The stored text is the record as gather fetch wrote it: copied
		// as it is, without decoding.
		bw := bufio.NewWriterSize(out, 64<<10)
		for res, err := range results {
			if err != nil {
				return readErr(err)
			}
			bw.Write(res.Record)
			if err := bw.WriteByte('\n'); err != nil {
				return writeErr(err)
			}
		}
		if err := bw.Flush(); err != nil {
			return writeErr(err)
		}
		return nil
	}
	w, _ := output.CSV(out, f.fields) // checked by runExport
	for res, err := range results {
		if err != nil {
			return readErr(err)
		}
		var r fetch.Record
		if err := decodeRecord(res.Record, &r); err != nil {
			return &exitError{exitRuntime, fmt.Errorf("a stored record does not parse: %w", err)}
		}
		if r.Error != nil {
			r.Error.Message = redact.Text(r.Error.Message) // never a URL's password
		}
		if err := w.Write(r); err != nil {
			return writeErr(err)
		}
	}
	// No record: Flush writes the header row alone, as a CSV reader
	// expects.
	if err := w.Flush(); err != nil {
		return writeErr(err)
	}
	return nil
}

// isFlowJob reports whether a job's settings are those of gather run.
func isFlowJob(meta job.Meta) bool {
	for _, s := range meta.Settings {
		if s.Key == "flow" {
			return true
		}
	}
	return false
}
