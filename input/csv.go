package input

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
)

// The CSV reader is a small RFC 4180 parser of its own rather than
// encoding/csv, because encoding/csv skips empty lines without a trace (a
// blank line must be a record here, with its line number and its end, so
// that a caller can skip it and still account for it), cannot say where a
// row ends, and reads a line or a quoted field of any length into
// memory. Its rows are those of encoding/csv with FieldsPerRecord = -1 (a
// test compares them): same fields, same errors, same line numbers (but for a line of white
// space only, which is blank here).

// A csvRow is one row of a CSV input, before the header gives it names.
type csvRow struct {
	start, end int      // the lines it spans, 1-based, inclusive
	endOffset  int64    // the bytes consumed through its end
	fields     []string // its fields, when neither empty nor err
	empty      bool     // a blank line: empty or white space only
	err        error
	fatal      bool // a read error: nothing follows
}

// quoteError is a parse error with its own message that still matches
// csv.ErrQuote or csv.ErrBareQuote with errors.Is, and ErrEndsInput when
// it ends reads.
type quoteError struct {
	msg  string
	err  error
	ends bool
}

func (e *quoteError) Error() string { return e.msg }
func (e *quoteError) Unwrap() []error {
	if e.ends {
		return []error{e.err, ErrEndsInput}
	}
	return []error{e.err}
}

// endsInput is an error that ends the input: it matches ErrEndsInput too.
type endsInput struct{ err error }

func (e *endsInput) Error() string   { return e.err.Error() }
func (e *endsInput) Unwrap() []error { return []error{e.err, ErrEndsInput} }

// csvRows yields the rows of r, which follows start in its input; every
// line of r is in exactly one row.
func csvRows(r io.Reader, start Pos) iter.Seq[csvRow] {
	return func(yield func(csvRow) bool) {
		c := &csvReader{br: bufio.NewReaderSize(r, ReadBuffer), line: start.Line, off: start.Offset}
		if b, err := c.br.Peek(len(bom)); err == nil && string(b) == bom && start.Offset == 0 {
			c.br.Discard(len(bom))
			c.off += int64(len(bom))
		}
		for {
			row, ok := c.next()
			if !ok || !yield(row) || row.fatal {
				return
			}
		}
	}
}

type csvReader struct {
	br   *bufio.Reader
	raw  []byte // the current line, when longer than br's buffer
	line int    // lines read
	off  int64  // bytes read
	buf  []byte // the current row's field data
	ends []int  // where each field of the row ends in buf
}

// readLine reads the next line without its \n and one \r before the \n or
// before the end of input. eof means there is no line at all. long means
// the line was over MaxLine bytes: it was read to its end, and text is nil.
func (c *csvReader) readLine() (text []byte, eof, long bool, err error) {
	line, err := c.br.ReadSlice('\n')
	c.off += int64(len(line))
	if err == bufio.ErrBufferFull {
		c.raw = append(c.raw[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = c.br.ReadSlice('\n')
			c.off += int64(len(line))
			if long {
				continue
			}
			if len(c.raw)+len(line) > MaxLine+2 { // 2 for \r\n
				long, c.raw = true, c.raw[:0]
				continue
			}
			c.raw = append(c.raw, line...)
		}
		line = c.raw
	}
	switch {
	case err == io.EOF && len(line) == 0 && !long:
		return nil, true, false, nil
	case err != nil && err != io.EOF:
		return nil, false, false, err
	}
	c.line++
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if long || len(line) > MaxLine {
		return nil, false, true, nil
	}
	return line, false, false, nil
}

// next reads the next row; ok is false at the end of the input.
func (c *csvReader) next() (row csvRow, ok bool) {
	text, eof, long, err := c.readLine()
	switch {
	case err != nil:
		n := c.line + 1
		return csvRow{start: n, end: n, err: fmt.Errorf("line %d: reading: %w", n, err), fatal: true}, true
	case eof:
		return row, false
	}
	row.start = c.line
	defer func() { row.end, row.endOffset = c.line, c.off }()
	switch {
	case long:
		row.err = fmt.Errorf("line %d: %w", c.line, errLineTooLong)
		return row, true
	case len(bytes.TrimSpace(text)) == 0:
		row.empty = true
		return row, true
	}

	c.buf, c.ends = c.buf[:0], c.ends[:0]
	tooBig := false
	line, col := text, 1 // col: the 1-based column of line[0]
fields:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			field := line
			if i >= 0 {
				field = line[:i]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				row.err = &quoteError{msg: fmt.Sprintf(`line %d, column %d: a " in an unquoted field (quote the field and write the " as "")`, c.line, col+j), err: csv.ErrBareQuote}
				return row, true
			}
			c.buf = append(c.buf, field...)
			c.ends = append(c.ends, len(c.buf))
			if i < 0 {
				break fields
			}
			line, col = line[i+1:], col+i+1
			continue
		}
		// A quoted field.
		qline, qcol := c.line, col
		line, col = line[1:], col+1
		for {
			i := bytes.IndexByte(line, '"')
			if i < 0 {
				// The field goes on on the next line.
				c.buf = append(c.buf, line...)
				c.buf = append(c.buf, '\n')
				if len(c.buf) > MaxLine {
					tooBig, c.buf = true, c.buf[:0]
				}
				var eof, long bool
				var err error
				line, eof, long, err = c.readLine()
				col = 1
				switch {
				case err != nil:
					row.err = fmt.Errorf("line %d: reading: %w", c.line+1, err)
					row.fatal = true
					return row, true
				case eof:
					msg := fmt.Sprintf(`line %d, column %d: the quoted field is not closed by the end of the input`, qline, qcol)
					if c.line > qline {
						msg += fmt.Sprintf(`: lines %d to %d were read into it, and the input ends with them (write a " inside a field as "" and quote the field)`, qline+1, c.line)
					}
					row.err = &quoteError{msg, csv.ErrQuote, c.line > qline}
					return row, true
				case long:
					row.err = fmt.Errorf("line %d: %w", c.line, errLineTooLong)
					return row, true
				}
				continue
			}
			c.buf = append(c.buf, line[:i]...)
			line, col = line[i+1:], col+i+1
			switch {
			case len(line) == 0:
				c.ends = append(c.ends, len(c.buf))
				break fields
			case line[0] == '"':
				c.buf = append(c.buf, '"')
				line, col = line[1:], col+1
			case line[0] == ',':
				c.ends = append(c.ends, len(c.buf))
				line, col = line[1:], col+1
				continue fields
			default:
				row.err = &quoteError{msg: fmt.Sprintf(`line %d, column %d: a quoted field's closing " is followed by neither a comma nor the line's end (write a " inside a quoted field as "")`, c.line, col-1), err: csv.ErrQuote}
				return row, true
			}
		}
	}
	if tooBig || len(c.buf) > MaxLine {
		row.err = fmt.Errorf("line %d: a row of more than %d bytes", row.start, MaxLine)
		return row, true
	}
	all := string(c.buf)
	row.fields = make([]string, len(c.ends))
	prev := 0
	for i, end := range c.ends {
		row.fields[i] = all[prev:end]
		prev = end
	}
	return row, true
}
