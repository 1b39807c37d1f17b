package input

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
)

// A Record is one record of a CSV or JSONL input: a set of named fields.
type Record struct {
	// Num is the 1-based line number where the record starts. In a CSV
	// input the header is a line too, so the first data row is usually
	// line 2; a row whose quoted fields hold newlines spans several lines,
	// and the next record's Num says so.
	Num int
	// Fields maps names to values. From CSV, every value is a string and
	// every column of the header is present. From JSONL, values are what
	// encoding/json decodes into an any, except that numbers are
	// json.Number (their text exactly as written, so that large IDs keep
	// every digit; gojq computes with json.Number directly). Nil when Err
	// is set.
	Fields map[string]any
	// Err, when set, says why the record could not be read; the message
	// starts with the line number. The sequence goes on after such a
	// record unless said otherwise.
	Err error
	// End is the position just after the record: its last line and the
	// bytes consumed through it.
	End Pos
}

// ErrEndsInput is wrapped by the error of a Record that ends the sequence
// although the input holds more lines, which are not read as records: a
// CSV header that cannot be read (without it no row can be), or a quoted
// field not closed by the end of the input, which has read every line
// after its start into itself (its error says which). A caller should say
// that the input ended early, and why. (A read error also ends the
// sequence but does not wrap it.)
var ErrEndsInput = errors.New("the input ends here")

// ErrEmptyLine is the error of a Record read from a blank line: empty or
// holding only white space. Such a Record is no input but a line to skip,
// with its Num and End: gather fetch makes no request of it and counts it
// as skipped, as a plain list's blank lines.
var ErrEmptyLine = errors.New("empty line")

const bom = "\ufeff"

// CSV yields the records of a CSV input (RFC 4180, comma-separated) whose
// first record is a header naming the columns. Each later row becomes a
// Record whose Fields map the header's names to the row's values (strings).
//
//   - An input of zero bytes yields nothing. A UTF-8 byte order mark at the
//     start is skipped.
//   - Header names are trimmed of surrounding white space. A header with an
//     empty or duplicate name, or one that cannot be parsed, yields one
//     Record with the error (wrapping ErrEndsInput) and ends the sequence:
//     without a header no row can be read.
//   - Quoted fields may hold commas, doubled quotes ("") and newlines; a
//     \r\n inside a quoted field becomes \n, as with encoding/csv. So a
//     stray " that opens a field nobody closes reads the rest of the input
//     into that field: its Record's error gives the quote's line and
//     column and the lines read into it, wraps csv.ErrQuote and
//     ErrEndsInput, and ends the sequence.
//   - A blank line (outside a quoted field): empty, or white space only,
//     yields a Record with ErrEmptyLine, also before the header; a caller
//     skips it (see ErrEmptyLine). A one-column CSV must therefore write an
//     empty value, or one of white space only, quoted: "".
//   - A row with a different number of fields than the header, a bare
//     quote in an unquoted field, or a quote followed by something other
//     than a comma or the line's end yields a Record with the error (which
//     wraps csv.ErrFieldCount, csv.ErrBareQuote or csv.ErrQuote), and
//     reading goes on with the next line.
//   - A line longer than MaxLine bytes, or a row whose fields hold more than
//     MaxLine bytes in all, yields a Record with an error and reading goes
//     on after it.
//   - A read error ends the sequence with a Record that carries it.
//
// The input is read as it is consumed: one row at a time, never more
// (but for the bytes buffered ahead, at most ReadBuffer).
func CSV(r io.Reader) iter.Seq[Record] { return CSVFrom(r, Pos{}, nil) }

// CSVFrom yields the records of r, the rest of a CSV input of which start
// was consumed already (line numbers and offsets go on from there), with
// the header read earlier (CSVHeader); a nil header means r starts with
// one. To resume after a Record, start is its End and r is the input from
// End.Offset on.
func CSVFrom(r io.Reader, start Pos, header []string) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		for row := range csvRows(r, start) {
			rec := Record{Num: row.start, Err: row.err, End: Pos{Line: row.end, Offset: row.endOffset}}
			switch {
			case row.empty:
				rec.Err = fmt.Errorf("line %d: %w", row.start, ErrEmptyLine)
			case rec.Err != nil:
				if header == nil && !row.fatal {
					rec.Err = &endsInput{fmt.Errorf("header: %w", rec.Err)}
					yield(rec)
					return
				}
			case header == nil:
				h, err := checkHeader(row.fields)
				if err != nil {
					yield(Record{Num: row.start, Err: &endsInput{fmt.Errorf("line %d: header: %w", row.start, err)}, End: rec.End})
					return
				}
				header = h
				continue
			case len(row.fields) != len(header):
				rec.Err = fmt.Errorf("line %d: %d fields, the header has %d: %w",
					row.start, len(row.fields), len(header), csv.ErrFieldCount)
			default:
				rec.Fields = make(map[string]any, len(header))
				for i, name := range header {
					rec.Fields[name] = row.fields[i]
				}
			}
			if !yield(rec) || row.fatal {
				return
			}
		}
	}
}

// CSVHeader reads the header of a CSV input from its first bytes: the names
// CSV would give its records' fields. Blank lines before it are skipped; an
// input without a header row gives ErrNoHeader. It may read past the
// header (up to ReadBuffer bytes), so r is of no further use: read the
// rows from another reader (see CSVFrom).
func CSVHeader(r io.Reader) ([]string, error) {
	for row := range csvRows(r, Pos{}) {
		switch {
		case row.empty:
			continue
		case row.err != nil:
			return nil, fmt.Errorf("header: %w", row.err)
		}
		h, err := checkHeader(row.fields)
		if err != nil {
			return nil, fmt.Errorf("line %d: header: %w", row.start, err)
		}
		return h, nil
	}
	return nil, ErrNoHeader
}

// ErrNoHeader is CSVHeader's error for an input without a header row: empty,
// or only blank lines.
var ErrNoHeader = errors.New("no header row")

func checkHeader(fields []string) ([]string, error) {
	h := make([]string, len(fields))
	seen := make(map[string]int, len(fields))
	for i, f := range fields {
		name := strings.TrimSpace(f)
		if name == "" {
			return nil, fmt.Errorf("column %d has no name", i+1)
		}
		if j, dup := seen[name]; dup {
			return nil, fmt.Errorf("column %d, %q, has the name of column %d", i+1, name, j+1)
		}
		seen[name] = i
		h[i] = name
	}
	return h, nil
}

// JSONL yields the records of a JSON Lines input: one JSON object per line.
// Lines are read as by Lines, so a line over MaxLine bytes or a read error
// is a Record with the error, the former going on after it. A UTF-8 byte
// order mark at the start is skipped. A blank line (empty or only white
// space) yields a Record with ErrEmptyLine, which a caller skips (see
// ErrEmptyLine); a line that is not one JSON object (bad syntax, another
// kind of value, more after the object) yields a Record whose error gives
// the line and the 1-based byte column, and reading goes on with the next
// line. Numbers are decoded as json.Number.
func JSONL(r io.Reader) iter.Seq[Record] { return JSONLFrom(r, Pos{}) }

// JSONLFrom yields the records of r, the rest of a JSONL input of which
// start was consumed already: line numbers and offsets go on from there.
func JSONLFrom(r io.Reader, start Pos) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		for l := range LinesFrom(r, start) {
			rec := Record{Num: l.Num, Err: l.Err, End: l.End}
			if rec.Err == nil {
				rec.Fields, rec.Err = decodeObject(l.Text) // Lines dropped a byte order mark
				if rec.Err != nil {
					rec.Err = fmt.Errorf("line %d%w", l.Num, rec.Err)
				}
			}
			if !yield(rec) {
				return
			}
		}
	}
}

// columnError is an error at a column of a line; it formats as
// ", column N: message" to follow "line L".
type columnError struct {
	col int
	err error
}

func (e *columnError) Error() string { return fmt.Sprintf(", column %d: %v", e.col, e.err) }
func (e *columnError) Unwrap() error { return e.err }

// lineError formats as ": message" to follow "line L".
type lineError struct{ err error }

func (e *lineError) Error() string { return ": " + e.err.Error() }
func (e *lineError) Unwrap() error { return e.err }

const jsonSpace = " \t\r\n"

func decodeObject(text string) (map[string]any, error) {
	trimmed := strings.TrimLeft(text, jsonSpace)
	if strings.TrimRight(trimmed, jsonSpace) == "" {
		return nil, &lineError{ErrEmptyLine}
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, &columnError{max(int(se.Offset), 1), err}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, &columnError{len(text) + 1, errors.New("unexpected end of line in JSON object")}
		default:
			return nil, &lineError{err}
		}
	}
	off := int(dec.InputOffset())
	if rest := strings.TrimLeft(text[off:], jsonSpace); rest != "" {
		return nil, &columnError{len(text) - len(rest) + 1, errors.New("more after the JSON value")}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		col := len(text) - len(trimmed) + 1
		return nil, &columnError{col, fmt.Errorf("%s, not a JSON object", jsonKind(v))}
	}
	return obj, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	default:
		return "null"
	}
}
