package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/atomicfile"
	"github.com/gogather/gather/internal/redact"
	"github.com/gogather/gather/internal/samefile"
	"github.com/gogather/gather/job"
	"github.com/gogather/gather/output"
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
the results of some statuses: codes and classes, as in --status 404,429,5xx
(0 is "no response").`,
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
	fl.StringSliceVar(&f.status, "status", nil, "only these statuses: codes or classes, comma-separated (404,5xx)")
	return cmd
}

// exportQuery builds the SELECT of the records to export and its
// arguments from the flags, or returns a usage error.
func exportQuery(f *exportFlags) (string, []any, error) {
	var where []string
	var args []any
	if f.failed {
		where = append(where, "ok = 0")
	}
	if len(f.status) > 0 {
		var ors []string
		for _, s := range f.status {
			lo, hi, err := parseStatus(s)
			if err != nil {
				return "", nil, usageError("--status: %v", err)
			}
			if lo == hi {
				ors = append(ors, "status = ?")
				args = append(args, lo)
			} else {
				ors = append(ors, "status BETWEEN ? AND ?")
				args = append(args, lo, hi)
			}
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	q := "SELECT record FROM results"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	switch f.order {
	case "input":
		q += " ORDER BY line"
	case "stored":
		q += " ORDER BY seq"
	default:
		return "", nil, usageError("--order %q: want input or stored", f.order)
	}
	return q, args, nil
}

// parseStatus reads a --status item: a code (0, no response, or 100 to
// 999) or a class (1xx to 5xx), as the range of codes it stands for.
func parseStatus(s string) (lo, hi int, err error) {
	s = strings.TrimSpace(s)
	if len(s) == 3 && strings.EqualFold(s[1:], "xx") {
		if s[0] < '1' || s[0] > '5' {
			return 0, 0, fmt.Errorf("%q is not a status class (1xx to 5xx)", s)
		}
		c := int(s[0]-'0') * 100
		return c, c + 99, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n != 0 && (n < 100 || n > 999) {
		return 0, 0, fmt.Errorf("%q is neither a status code (100 to 999, or 0: no response) nor a class such as 5xx", s)
	}
	return n, n, nil
}

func runExport(ctx context.Context, path string, f *exportFlags) error {
	// Everything is checked before the output is created: a usage error
	// never truncates an existing file.
	if err := checkRecordFormat(f.format, f.fields); err != nil {
		return err
	}
	query, args, err := exportQuery(f)
	if err != nil {
		return err
	}
	if err := samefile.Check([]samefile.Named{{Name: "-o", Path: f.output}}, jobFiles(path)); err != nil {
		return usageError("%v", err)
	}
	db, err := openJob(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	// The query runs before the output is created, so that a file that
	// cannot be read leaves the output alone; rows are then read one at a
	// time, in one read transaction.
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return &exitError{exitRuntime, fmt.Errorf("%s: reading results: %w", path, job.Damaged(path, err))}
	}
	defer rows.Close()

	if f.output == "-" {
		return exportRows(rows, stdio.out, f, path)
	}
	// A file is written under a temporary name and renamed when whole: an
	// export that fails half-way (a damaged page met late) leaves no half
	// file, and an earlier file of that name as it was.
	err = atomicfile.Write(f.output, func(w io.Writer) error { return exportRows(rows, w, f, path) })
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

// exportRows writes each row's record to out.
func exportRows(rows *sql.Rows, out io.Writer, f *exportFlags, path string) error {
	writeErr := func(err error) error {
		if isClosedOutput(err) {
			return errOutputClosed("export")
		}
		return &exitError{exitRuntime, fmt.Errorf("writing: %w", err)}
	}
	readErr := func(err error) error {
		return &exitError{exitRuntime, fmt.Errorf("%s: reading results: %w", path, job.Damaged(path, err))}
	}
	if f.format == "jsonl" {
		// The stored text is the record as gather fetch wrote it: copied
		// as it is, without decoding.
		bw := bufio.NewWriterSize(out, 64<<10)
		for rows.Next() {
			var rec sql.RawBytes
			if err := rows.Scan(&rec); err != nil {
				return readErr(err)
			}
			bw.Write(rec)
			if err := bw.WriteByte('\n'); err != nil {
				return writeErr(err)
			}
		}
		if err := rows.Err(); err != nil {
			return readErr(err)
		}
		if err := bw.Flush(); err != nil {
			return writeErr(err)
		}
		return nil
	}
	w, _ := output.CSV(out, f.fields) // checked by runExport
	for rows.Next() {
		var rec sql.RawBytes
		if err := rows.Scan(&rec); err != nil {
			return readErr(err)
		}
		var r fetch.Record
		if err := decodeRecord(rec, &r); err != nil {
			return &exitError{exitRuntime, fmt.Errorf("a stored record does not parse: %w", err)}
		}
		if r.Error != nil {
			r.Error.Message = redact.Text(r.Error.Message) // never a URL's password
		}
		if err := w.Write(r); err != nil {
			return writeErr(err)
		}
	}
	if err := rows.Err(); err != nil {
		return readErr(err)
	}
	// No record: Flush writes the header row alone, as a CSV reader
	// expects.
	if err := w.Flush(); err != nil {
		return writeErr(err)
	}
	return nil
}
