package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/gogather/gather/input"
)

// Format is an input's format.
type Format string

// The input formats.
const (
	Lines Format = "lines" // one item a line; blank lines and # comments skipped
	CSV   Format = "csv"   // a header row, then one item a row
	JSONL Format = "jsonl" // one JSON object a line; blank lines skipped
)

// FormatOf picks an input's format: flag's when it names one, else (flag
// "" or "auto") by the extension of name (.csv; .jsonl or .ndjson), else
// Lines.
func FormatOf(flag, name string) (Format, error) {
	switch f := Format(flag); f {
	case Lines, CSV, JSONL:
		return f, nil
	case "", "auto":
	default:
		return "", fmt.Errorf("%q: want lines, csv or jsonl", flag)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV, nil
	case ".jsonl", ".ndjson":
		return JSONL, nil
	}
	return Lines, nil
}

// source reads the items of an input in its format, counting the lines it
// skips and noting why it ended early.
type source struct {
	format  Format
	skipped atomic.Int64
	ended   atomic.Value // an error: why the input ended early
}

// items reads r, which starts at start (with the CSV header read earlier,
// or nil: r starts with it), and yields one item per input record.
//
// take, when not nil, is told of every record in order and says whether
// to yield it (a job skips the inputs it has done). A plain list's blank
// lines and comments (# after optional white space), and a CSV or JSONL
// input's blank lines, are no record: they are counted (skippedLines),
// and pass, when not nil, is told of each one's end, in order with take's
// calls. Line numbers stay those of the file.
//
// Once stop is done, reading ends before the next record, which take never
// sees: a run being stopped may cut its input short in the middle of a
// line.
func (s *source) items(stop context.Context, r io.Reader, start input.Pos, header []string, take func(num int, end input.Pos) bool, pass func(end input.Pos)) iter.Seq[Item] {
	skip := func(end input.Pos) {
		s.skipped.Add(1)
		if pass != nil {
			pass(end)
		}
	}
	stopped := func() bool { return stop.Err() != nil }
	if s.format == Lines {
		return func(yield func(Item) bool) {
			for l := range input.LinesFrom(r, start) {
				if stopped() {
					return
				}
				if l.Err == nil && skipLine(l.Text) {
					skip(l.End)
					continue
				}
				if take != nil && !take(l.Num, l.End) {
					continue
				}
				if !yield(Item{Line: l.Num, End: l.End, Text: l.Text, Err: l.Err}) {
					return
				}
			}
		}
	}
	return func(yield func(Item) bool) {
		var recs iter.Seq[input.Record]
		if s.format == CSV {
			recs = input.CSVFrom(r, start, header)
		} else {
			recs = input.JSONLFrom(r, start)
		}
		for rec := range recs {
			if stopped() {
				return
			}
			if errors.Is(rec.Err, input.ErrEmptyLine) {
				skip(rec.End)
				continue
			}
			if errors.Is(rec.Err, input.ErrEndsInput) {
				s.ended.Store(rec.Err)
			}
			if take != nil && !take(rec.Num, rec.End) {
				continue
			}
			if !yield(Item{Line: rec.Num, End: rec.End, Fields: rec.Fields, Err: rec.Err}) {
				return
			}
		}
	}
}

// skipLine reports whether a plain list's line is skipped: blank (only
// white space) or a comment (# after optional white space).
func skipLine(text string) bool {
	text = strings.TrimSpace(text)
	return text == "" || text[0] == '#'
}

func trimSpace(s string) string { return strings.TrimSpace(s) }

// skippedLines returns how many lines were skipped so far.
func (s *source) skippedLines() int64 { return s.skipped.Load() }

// endedEarly returns, once the items have ended, why the input ended
// before its last line was read as records, or nil: the error of the
// record that ended it (a CSV quoted field not closed, which read the rest
// of the input into itself; a bad CSV header), which wraps
// input.ErrEndsInput and says where. That record is a bad input too.
func (s *source) endedEarly() error {
	err, _ := s.ended.Load().(error)
	return err
}

// errWatch notes the first error other than io.EOF that its reader gives
// the input's parser: an input that ends on one was not read to its end.
type errWatch struct {
	r   io.Reader
	err error
}

func (e *errWatch) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
