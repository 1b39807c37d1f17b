// Package input reads gather's inputs as streams: each item is yielded as
// soon as it is read, with its 1-based line number, and no item is read
// ahead of what the consumer asks for (the bytes are, through a buffer of
// at most ReadBuffer bytes). A bad line is an item with an error, never a
// reason to stop: the reader goes on with the next line. (The exceptions
// are a read error, and a CSV input whose header is bad or whose quoted
// field is never closed: see ErrEndsInput.)
package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
)

// ReadBuffer is the size of the readers' buffer: they read at most this
// far ahead of the item they yield (a line longer than it is read through
// it, and then so far ahead of its end).
const ReadBuffer = 64 << 10

// MaxLine is the longest line read, in bytes; a longer line is an item with
// an error, and the reader goes on after its end.
const MaxLine = 1 << 20

// A Pos is a position in an input: the lines and bytes consumed so far.
// An item's End is the position just after it, where reading can resume
// (LinesFrom, JSONLFrom, CSVFrom) once everything before is accounted for:
// hand them the input from End.Offset on (a file opened again and seeked
// there, say), not the reader the items came from, which has read ahead.
type Pos struct {
	Line   int   // lines consumed; the next line is Line+1
	Offset int64 // bytes consumed, line terminators (and a byte order mark) included
}

// A Line is one line of input.
type Line struct {
	Num  int    // 1-based line number
	Text string // without the line terminator (\n or \r\n)
	Err  error  // set when the line could not be read; Text is then empty
	End  Pos    // the position after the line and its terminator
}

// Lines yields the lines of r. A final line without a newline is yielded
// too; a blank line is yielded with an empty Text and no error (unlike
// JSONL and CSV, Lines leaves blank lines to its caller). A UTF-8 byte
// order mark at the start of r is not part of line 1's
// Text (its 3 bytes are counted in the offsets); anywhere else it is text.
// A read error ends the sequence with an item that carries it.
func Lines(r io.Reader) iter.Seq[Line] { return LinesFrom(r, Pos{}) }

// LinesFrom yields the lines of r, the rest of an input of which start was
// consumed already: line numbers go on from start.Line+1 and End offsets
// from start.Offset. A byte order mark is skipped only when start.Offset
// is 0 (r is the whole input).
func LinesFrom(r io.Reader, start Pos) iter.Seq[Line] {
	return func(yield func(Line) bool) {
		br := bufio.NewReaderSize(r, ReadBuffer)
		pos := start
		var long []byte
		for {
			text, n, err := readLine(br, &long, pos.Offset == 0)
			if err == io.EOF {
				return
			}
			pos.Line++
			pos.Offset += n
			switch {
			case errors.Is(err, errLineTooLong):
				if !yield(Line{Num: pos.Line, Err: fmt.Errorf("line %d: %w", pos.Line, err), End: pos}) {
					return
				}
				continue
			case err != nil:
				yield(Line{Num: pos.Line, Err: fmt.Errorf("line %d: reading: %w", pos.Line, err), End: pos})
				return
			}
			if !yield(Line{Num: pos.Line, Text: text, End: pos}) {
				return
			}
		}
	}
}

var errLineTooLong = fmt.Errorf("longer than %d bytes", MaxLine)

// readLine reads one line and says how many bytes it consumed. It returns
// io.EOF only when there is no line at all; an over-long line is consumed
// to its end and reported. long is a buffer for lines longer than br's.
// first says the line is the input's first: a byte order mark starting it
// is dropped (and not counted against MaxLine).
func readLine(br *bufio.Reader, long *[]byte, first bool) (string, int64, error) {
	limit := MaxLine + 2 // 2 for \r\n
	if first {
		limit += len(bom)
	}
	line, err := br.ReadSlice('\n')
	n := int64(len(line))
	tooLong := false
	if err == bufio.ErrBufferFull {
		buf := append((*long)[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = br.ReadSlice('\n')
			n += int64(len(line))
			if tooLong {
				continue
			}
			if len(buf)+len(line) > limit {
				tooLong, buf = true, buf[:0]
				continue
			}
			buf = append(buf, line...)
		}
		*long, line = buf, buf
	}
	switch {
	case err == io.EOF && n == 0:
		return "", 0, io.EOF
	case err != nil && err != io.EOF:
		return "", n, err
	}
	if first && bytes.HasPrefix(line, []byte(bom)) {
		line = line[len(bom):]
	}
	if len(line) > 0 && line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
	}
	if tooLong || len(line) > MaxLine {
		return "", n, errLineTooLong
	}
	return string(line), n, nil
}
