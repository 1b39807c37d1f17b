// Package output writes fetch records to sinks: JSON lines (the default,
// every field) and CSV (a chosen set of fields, RFC 4180 quoting, so bodies
// with commas, quotes and newlines survive). Writers buffer whole records;
// Flush pushes what is buffered, and a write that fails part-way (a full
// disk) leaves a file ending on a whole record.
package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gogather/gather/fetch"
)

// A Writer writes records. It is not safe for concurrent use.
//
// A record reaches the underlying writer whole or not at all, as far as
// the writer allows: when a write fails part-way (a full disk, a file
// size limit), the writer cuts a file (an *os.File, or anything with
// Truncate and Seek) back to the end of the last whole record, and the
// error (a *WriteError) says what the output holds. Once a write failed,
// every later call returns the same error.
type Writer interface {
	Write(fetch.Record) error
	Flush() error
}

// A JSONWriter also writes records already encoded as JSON (a job file
// keeps each record as gather fetch wrote it): WriteJSON writes record,
// one JSON object without a newline, as a line of its own; line is the
// record's input line, for a WriteError. The writer JSONL returns is a
// JSONWriter (find it with a type assertion); the CSV writer is not.
type JSONWriter interface {
	Writer
	WriteJSON(line int, record []byte) error
}

// WriteError is the error of a write that failed: what the output holds
// after it.
type WriteError struct {
	Err      error // the underlying write's error
	Records  int64 // whole records in the output (a CSV header not counted)
	LastLine int   // the input line of the last whole record (0: none)
	// CutLine, when not 0, is the input line of a record written in part
	// that could not be cut back (the writer is not a file): the output
	// ends in the middle of it.
	CutLine int
}

func (e *WriteError) Error() string {
	if e.CutLine != 0 && e.Records == 0 {
		return fmt.Sprintf("%v; the output ends in the middle of the record of input line %d, its first", e.Err, e.CutLine)
	}
	if e.CutLine != 0 {
		return fmt.Sprintf("%v; the output ends in the middle of the record of input line %d, after %d whole %s (the last of input line %d)", e.Err, e.CutLine, e.Records, plural(e.Records, "record"), e.LastLine)
	}
	if e.Records == 0 {
		return fmt.Sprintf("%v; the output holds no record", e.Err)
	}
	return fmt.Sprintf("%v; the output ends on a whole record: %d records, the last of input line %d", e.Err, e.Records, e.LastLine)
}

func (e *WriteError) Unwrap() error { return e.Err }

// plural returns word, with an s unless n is 1.
func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// flushAt is the size of the buffer of whole records that makes a write.
const flushAt = 64 << 10

// sink buffers whole records and writes them, cutting the output back to
// the last whole record when a write fails part-way.
type sink struct {
	w     io.Writer
	buf   []byte
	ends  []recordEnd // the buffered records' ends in buf
	off   int64       // the output's offset at buf[0], if a file
	file  truncater   // nil if w is not a file that can be cut back
	whole int64       // whole records written
	last  int         // the line of the last whole record written
	err   error       // sticky
}

type recordEnd struct {
	end  int
	line int // 0: a header
}

type truncater interface {
	Truncate(int64) error
	Seek(int64, int) (int64, error)
}

// sizer is a file that says its size (an *os.File).
type sizer interface {
	Stat() (os.FileInfo, error)
}

// newSink returns a sink writing to w. When w is a file, the sink takes
// the offset its writes go to: the current offset, or the end for a file
// opened for appending (whose offset is 0 before its first write, when the
// shell opened it with >>). When that cannot be told, the sink cuts a file
// back only when its size shows the failed write began where the sink
// thinks, and never below the size the file had at the start.
func newSink(w io.Writer) *sink {
	s := &sink{w: w}
	t, ok := w.(truncater)
	if !ok {
		return s
	}
	whence := io.SeekCurrent
	appendOnly, known := appending(w)
	if appendOnly {
		whence = io.SeekEnd
	}
	off, err := t.Seek(0, whence)
	if err != nil {
		return s
	}
	if !known {
		// Perhaps opened for appending: the writes go at the end, so
		// never cut below it.
		if st, ok := w.(sizer); ok {
			if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > off {
				off = fi.Size()
			}
		}
	}
	s.file, s.off = t, off
	return s
}

// canCut reports whether the file can be cut back to end: the failed
// write of n bytes began at s.off (the file's size is s.off+n, when the
// file says its size), so end is not below what the file held before it.
func (s *sink) canCut(n int) bool {
	st, ok := s.file.(sizer)
	if !ok {
		return true
	}
	fi, err := st.Stat()
	return err == nil && fi.Size() == s.off+int64(n)
}

// add appends one whole record (line 0 for a header) and writes the
// buffer when it is full.
func (s *sink) add(b []byte, line int) error {
	if s.err != nil {
		return s.err
	}
	s.buf = append(s.buf, b...)
	s.ends = append(s.ends, recordEnd{len(s.buf), line})
	if len(s.buf) >= flushAt {
		return s.flush()
	}
	return nil
}

func (s *sink) flush() error {
	if s.err != nil {
		return s.err
	}
	if len(s.buf) == 0 {
		return nil
	}
	n, err := s.w.Write(s.buf)
	if err == nil && n < len(s.buf) {
		err = io.ErrShortWrite
	}
	// The records written whole.
	whole := 0
	for _, e := range s.ends {
		if e.end > n {
			break
		}
		whole = e.end
		if e.line != 0 {
			s.whole++
			s.last = e.line
		}
	}
	if err == nil {
		s.off += int64(n)
		s.buf, s.ends = s.buf[:0], s.ends[:0]
		return nil
	}
	we := &WriteError{Err: err, Records: s.whole, LastLine: s.last}
	if n > whole {
		cut := true
		if s.file != nil && s.canCut(n) {
			end := s.off + int64(whole)
			if s.file.Truncate(end) == nil {
				if _, serr := s.file.Seek(end, io.SeekStart); serr == nil {
					cut = false
				}
			}
		}
		if cut {
			for _, e := range s.ends {
				if e.end > whole {
					we.CutLine = e.line
					break
				}
			}
		}
	}
	s.err = we
	return we
}

// JSONL returns a writer of one JSON object per line: the bytes
// json.Marshal gives, and a newline. The writer is also a JSONWriter.
func JSONL(w io.Writer) Writer {
	return &jsonl{s: newSink(w)}
}

type jsonl struct {
	s   *sink
	buf []byte // the record being written, reused
}

func (j *jsonl) Write(r fetch.Record) error {
	if j.s.err != nil {
		return j.s.err
	}
	b, err := r.AppendJSON(j.buf[:0])
	if err != nil {
		return err
	}
	j.buf = append(b, '\n')
	return j.s.add(j.buf, r.Line)
}

func (j *jsonl) WriteJSON(line int, record []byte) error {
	if j.s.err != nil {
		return j.s.err
	}
	j.buf = append(append(j.buf[:0], record...), '\n')
	return j.s.add(j.buf, line)
}

func (j *jsonl) Flush() error { return j.s.flush() }

// Fields returns the CSV columns a record offers, in their default order,
// in a new slice the caller may change.
func Fields() []string { return slices.Clone(recordFields[:]) }

// DefaultCSVFields returns the columns written when none are chosen, in a
// new slice the caller may change.
func DefaultCSVFields() []string { return slices.Clone(defaultCSVFields[:]) }

// recordFields lists the CSV columns a record offers, in their default order.
var recordFields = [...]string{
	"line", "url", "method", "status", "error_kind", "error", "attempts", "ms",
	"bytes", "sha256", "final_url", "content_type", "body", "body_file", "truncated",
}

// defaultCSVFields are the columns written when none are chosen.
var defaultCSVFields = [...]string{"line", "url", "status", "error_kind", "error", "attempts", "ms", "bytes", "sha256"}

// InputPrefix starts a CSV column of an input field kept in the record
// (gather fetch --keep): input.NAME is the record's Input[NAME], a string
// as it is, null or a missing field as an empty cell, any other value as
// compact JSON (a number exactly as the input wrote it).
const InputPrefix = "input."

// InputFields returns the CSV columns of the kept input fields names:
// input.NAME each.
func InputFields(names []string) []string {
	cols := make([]string, len(names))
	for i, n := range names {
		cols[i] = InputPrefix + n
	}
	return cols
}

// CSV returns a writer of a header row and one row per record, with the
// given fields as its columns, in order: names from Fields, and
// InputPrefix+NAME for an input field kept with the record (InputFields
// makes them); no fields means DefaultCSVFields. An unknown field is an
// error that names it. A kept body that is a JSON string is written as
// its text, any other body as its JSON; an absent error is empty cells.
// The header row is written with the first record, or by Flush when there
// is none: an output without records is the header alone.
func CSV(w io.Writer, fields []string) (Writer, error) {
	if len(fields) == 0 {
		fields = defaultCSVFields[:]
	}
	for _, f := range fields {
		if value(fetch.Record{}, f) == nil {
			return nil, fmt.Errorf("unknown CSV field %q (known: %s, and %sNAME for an input field kept with --keep NAME)", f, strings.Join(recordFields[:], ", "), InputPrefix)
		}
	}
	return &csvWriter{Rows: NewRows(w, fields), fields: fields}, nil
}

type csvWriter struct {
	*Rows
	fields []string
	cells  []string
}

func (c *csvWriter) Write(r fetch.Record) error {
	c.cells = c.cells[:0]
	for _, f := range c.fields {
		c.cells = append(c.cells, *value(r, f))
	}
	return c.WriteRow(r.Line, c.cells)
}

// Rows writes CSV rows under a header, each row whole or not at all as
// the other writers do (see WriteError): the CSV writer of records, and
// of any other kind of result (a flow's). Make it with NewRows.
type Rows struct {
	s       *sink
	w       *csv.Writer  // encodes one row into row
	row     bytes.Buffer // the row being written
	header  []string
	started bool
}

// NewRows returns a writer of CSV rows to w under header, which is
// written with the first row, or by Flush when there is none.
func NewRows(w io.Writer, header []string) *Rows {
	r := &Rows{s: newSink(w), header: header}
	r.w = csv.NewWriter(&r.row)
	return r
}

// put encodes one row and adds it whole to the sink.
func (r *Rows) put(cells []string, line int) error {
	r.row.Reset()
	r.w.Write(cells)
	r.w.Flush()
	if err := r.w.Error(); err != nil {
		return err
	}
	return r.s.add(r.row.Bytes(), line)
}

func (r *Rows) writeHeader() error {
	if r.started {
		return nil
	}
	r.started = true
	return r.put(r.header, 0)
}

// WriteRow writes one row, for the input line line (named by a
// WriteError).
func (r *Rows) WriteRow(line int, cells []string) error {
	if r.s.err != nil {
		return r.s.err
	}
	if err := r.writeHeader(); err != nil {
		return err
	}
	return r.put(cells, line)
}

// Flush writes what is buffered (and the header, when no row was
// written).
func (r *Rows) Flush() error {
	if r.s.err == nil {
		if err := r.writeHeader(); err != nil {
			return err
		}
	}
	return r.s.flush()
}

// value returns field f of r as CSV text, or nil for an unknown field.
func value(r fetch.Record, f string) *string {
	var s string
	switch f {
	case "line":
		s = strconv.Itoa(r.Line)
	case "url":
		s = r.URL
	case "method":
		s = r.Method
	case "status":
		s = strconv.Itoa(r.Status)
	case "error_kind":
		if r.Error != nil {
			s = string(r.Error.Kind)
		}
	case "error":
		if r.Error != nil {
			s = r.Error.Message
		}
	case "attempts":
		s = strconv.Itoa(r.Attempts)
	case "ms":
		s = strconv.FormatFloat(r.MS, 'f', -1, 64)
	case "bytes":
		s = strconv.FormatInt(r.Bytes, 10)
	case "sha256":
		s = r.SHA256
	case "final_url":
		s = r.FinalURL
	case "content_type":
		s = r.ContentType
	case "body":
		s = bodyText(r.Body)
	case "body_file":
		s = r.BodyFile
	case "truncated":
		s = strconv.FormatBool(r.Truncated)
	default:
		name, ok := strings.CutPrefix(f, InputPrefix)
		if !ok || name == "" {
			return nil
		}
		s = CellText(r.Input[name])
	}
	return &s
}

// CellText is a JSON value as CSV text: a string as it is, nothing for
// null, a number as written, other values as compact JSON. It writes a
// kept input field, and a flow's output (flow.CSV).
func CellText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// bodyText is a kept body as CSV text: a JSON string's contents, else the
// JSON itself.
func bodyText(b json.RawMessage) string {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
	}
	return string(b)
}
