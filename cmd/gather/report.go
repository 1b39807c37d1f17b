package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/gogather/gather/internal/atomicfile"
	"github.com/gogather/gather/internal/samefile"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/report"
	"github.com/spf13/cobra"
)

func newReportCommand() *cobra.Command {
	var htmlFile, jsonFile string
	cmd := &cobra.Command{
		Use:   "report JOBFILE",
		Short: "Summarise a job file: progress, outcomes, latency, throughput, hosts",
		Long: `Report reads a job file (gather fetch --job) and prints what the job did
so far: progress against the total of inputs (once known), outcomes, status
codes and classes, error kinds with an example each, latency percentiles,
throughput over time, the slowest and the most failing hosts, and the
retries spent. It only reads the file, so it can run beside a fetch that is
writing it.

--html writes a self-contained page (inline styles and SVG charts, no
script, nothing fetched from the network); --json writes the numbers.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.Context(), args[0], htmlFile, jsonFile)
		},
	}
	cmd.Flags().StringVar(&htmlFile, "html", "", "also write the report as a self-contained HTML page to this file")
	cmd.Flags().StringVar(&jsonFile, "json", "", "also write the report as JSON to this file")
	return cmd
}

func runReport(ctx context.Context, path, htmlFile, jsonFile string) error {
	outputs := []samefile.Named{{Name: "--html", Path: htmlFile}, {Name: "--json", Path: jsonFile}}
	if err := samefile.Check(outputs, jobFiles(path)); err != nil {
		return usageError("%v", err)
	}
	r, err := openJob(ctx, path)
	if err != nil {
		return err
	}
	defer r.Close()
	rep, err := report.Load(ctx, r)
	if err != nil {
		return &exitError{exitRuntime, err}
	}
	rep.Job = path
	if inUse, err := job.InUse(path); err == nil && !inUse {
		rep.MarkKilledRuns() // "running" with no process holding the job: killed
	}
	if htmlFile != "" {
		if err := atomicfile.Write(htmlFile, rep.WriteHTML); err != nil {
			return &exitError{exitRuntime, fmt.Errorf("--html: %w", err)}
		}
	}
	if jsonFile != "" {
		err := atomicfile.Write(jsonFile, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		})
		if err != nil {
			return &exitError{exitRuntime, fmt.Errorf("--json: %w", err)}
		}
	}
	if err := rep.WriteText(stdio.out); err != nil {
		if isClosedOutput(err) {
			return errOutputClosed("report")
		}
		return &exitError{exitRuntime, fmt.Errorf("writing the report: %w", err)}
	}
	return nil
}

// jobFiles names a job file and the files SQLite keeps beside it, which
// no output may be.
func jobFiles(path string) []samefile.Named {
	return []samefile.Named{
		{Name: "the job file", Path: path},
		{Name: "the job's write-ahead log", Path: path + "-wal"},
		{Name: "the job's shared memory file", Path: path + "-shm"},
		{Name: "the job's journal", Path: path + "-journal"},
	}
}

// openJob opens a job file for reading; any failure is a usage error of
// one line, such as "crawl.db: not a gather job file: ...".
func openJob(ctx context.Context, path string) (*job.Reader, error) {
	r, err := job.OpenReader(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageError("%s: no such file", path)
	}
	if err != nil {
		return nil, usageError("%v", err)
	}
	return r, nil
}
