// Package output writes fetch records to sinks: JSON lines (the default,
// every field) and CSV (a chosen set of fields, RFC 4180 quoting, so bodies
// with commas, quotes and newlines survive). Writers buffer; each record is
// written whole, and Flush pushes what is buffered.
package output

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gogather/gather/fetch"
)

// A Writer writes records. It is not safe for concurrent use.
type Writer interface {
	Write(fetch.Record) error
	Flush() error
}

// JSONL returns a writer of one JSON object per line: the bytes
// json.Marshal gives, and a newline.
func JSONL(w io.Writer) Writer {
	return &jsonl{bw: bufio.NewWriterSize(w, 64<<10)}
}

type jsonl struct {
	bw  *bufio.Writer
	buf []byte // the record being written, reused
}

func (j *jsonl) Write(r fetch.Record) error {
	b, err := r.AppendJSON(j.buf[:0])
	if err != nil {
		return err
	}
	j.buf = append(b, '\n')
	_, err = j.bw.Write(j.buf)
	return err
}

func (j *jsonl) Flush() error { return j.bw.Flush() }

// Fields lists the CSV columns a record offers, in their default order.
var Fields = []string{
	"line", "url", "method", "status", "error_kind", "error", "attempts", "ms",
	"bytes", "sha256", "final_url", "content_type", "body", "body_file", "truncated",
}

// DefaultCSVFields are the columns written when none are chosen.
var DefaultCSVFields = []string{"line", "url", "status", "error_kind", "error", "attempts", "ms", "bytes", "sha256"}

// CSV returns a writer of a header row and one row per record with the
// given fields (DefaultCSVFields when none), or an error naming an unknown
// field.
func CSV(w io.Writer, fields []string) (Writer, error) {
	if len(fields) == 0 {
		fields = DefaultCSVFields
	}
	for _, f := range fields {
		if value(fetch.Record{}, f) == nil {
			return nil, fmt.Errorf("unknown CSV field %q (known: %s)", f, strings.Join(Fields, ", "))
		}
	}
	c := &csvWriter{w: csv.NewWriter(w), fields: fields}
	return c, nil
}

type csvWriter struct {
	w       *csv.Writer
	fields  []string
	started bool
	row     []string
}

func (c *csvWriter) Write(r fetch.Record) error {
	if !c.started {
		c.started = true
		if err := c.w.Write(c.fields); err != nil {
			return err
		}
	}
	c.row = c.row[:0]
	for _, f := range c.fields {
		c.row = append(c.row, *value(r, f))
	}
	return c.w.Write(c.row)
}

func (c *csvWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
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
		return nil
	}
	return &s
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
