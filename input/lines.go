// Package input reads gather's inputs as streams: each item is yielded as
// soon as it is read, with its 1-based line number, and nothing is read
// ahead of what the consumer asks for. A bad line is an item with an error,
// never a reason to stop: the reader goes on with the next line. (The one
// exception is a CSV input whose header is bad: without it no row can be
// read.)
package input

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
)

// MaxLine is the longest line read, in bytes; a longer line is an item with
// an error, and the reader goes on after its end.
const MaxLine = 1 << 20

// A Line is one line of input.
type Line struct {
	Num  int    // 1-based line number
	Text string // without the line terminator (\n or \r\n)
	Err  error  // set when the line could not be read; Text is then empty
}

// Lines yields the lines of r. A final line without a newline is yielded
// too. A read error ends the sequence with an item that carries it.
func Lines(r io.Reader) iter.Seq[Line] {
	return func(yield func(Line) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		for num := 1; ; num++ {
			text, err := readLine(br)
			switch {
			case err == io.EOF:
				return
			case errors.Is(err, errLineTooLong):
				if !yield(Line{Num: num, Err: fmt.Errorf("line %d: %w", num, err)}) {
					return
				}
				continue
			case err != nil:
				yield(Line{Num: num, Err: fmt.Errorf("line %d: reading: %w", num, err)})
				return
			}
			if !yield(Line{Num: num, Text: text}) {
				return
			}
		}
	}
}

var errLineTooLong = fmt.Errorf("longer than %d bytes", MaxLine)

// readLine reads one line. It returns io.EOF only when there is no line at
// all; an over-long line is consumed to its end and reported.
func readLine(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	tooLong := false
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if err == io.EOF && (sb.Len() > 0 || tooLong) {
				break
			}
			return "", err
		}
		if !tooLong {
			if sb.Len()+len(chunk) > MaxLine {
				tooLong = true
				sb.Reset()
			} else {
				sb.Write(chunk)
			}
		}
		if !isPrefix {
			break
		}
	}
	if tooLong {
		return "", errLineTooLong
	}
	return sb.String(), nil
}
