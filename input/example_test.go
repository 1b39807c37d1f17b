package input_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gogather/gather/input"
)

// Each line comes with its number and the position after it. A final
// line without a newline is a line too, and \r\n ends a line as \n does.
func ExampleLines() {
	in := "http://a.example/\r\n\nhttp://b.example/"
	for l := range input.Lines(strings.NewReader(in)) {
		fmt.Printf("line %d %q end=%+v\n", l.Num, l.Text, l.End)
	}
	// Output:
	// line 1 "http://a.example/" end={Line:1 Offset:19}
	// line 2 "" end={Line:2 Offset:20}
	// line 3 "http://b.example/" end={Line:3 Offset:37}
}

// A run that stopped after line 2 saved that line's End. The next run
// reads the input from End.Offset on, and LinesFrom goes on numbering at
// line 3. (With a file, open it again and Seek to End.Offset: the first
// reader has read ahead of the lines it yielded.)
func ExampleLinesFrom() {
	in := "one\ntwo\nthree\nfour\n"

	var saved input.Pos
	for l := range input.Lines(strings.NewReader(in)) {
		fmt.Println("first run:", l.Num, l.Text)
		saved = l.End
		if l.Num == 2 {
			break // stopped here
		}
	}

	rest := strings.NewReader(in[saved.Offset:])
	for l := range input.LinesFrom(rest, saved) {
		fmt.Println("resumed:", l.Num, l.Text)
	}
	// Output:
	// first run: 1 one
	// first run: 2 two
	// resumed: 3 three
	// resumed: 4 four
}

// A bad line is a Record with an error that names the line (and, for bad
// JSON, the column); reading goes on with the next line. A blank line is
// a Record with ErrEmptyLine, to be skipped. Numbers are json.Number, so
// large IDs keep every digit.
func ExampleJSONL() {
	in := `{"id": 12345678901234567890, "url": "http://a.example/"}
{"id": 2 "url": "http://b.example/"}
["not", "an", "object"]

{"id": 3, "url": "http://c.example/"}
`
	for rec := range input.JSONL(strings.NewReader(in)) {
		switch {
		case errors.Is(rec.Err, input.ErrEmptyLine):
			fmt.Println(rec.Num, "skipped")
		case rec.Err != nil:
			fmt.Println(rec.Num, "error:", rec.Err)
		default:
			fmt.Println(rec.Num, rec.Fields["id"], rec.Fields["url"])
		}
	}
	// Output:
	// 1 12345678901234567890 http://a.example/
	// 2 error: line 2, column 10: invalid character '"' after object key:value pair
	// 3 error: line 3, column 1: an array, not a JSON object
	// 4 skipped
	// 5 3 http://c.example/
}

// The header names the fields. A quoted field may hold commas, doubled
// quotes and newlines; such a row spans several lines, and Num is the
// line it starts on. A row with the wrong number of fields is a Record
// with an error, and reading goes on.
func ExampleCSV() {
	in := `id,url,note
1,http://a.example/,"a note, with a comma"
2,http://b.example/,"two
lines, and ""quotes"""
3,http://c.example/
4,http://d.example/,plain
`
	for rec := range input.CSV(strings.NewReader(in)) {
		if rec.Err != nil {
			fmt.Println(rec.Num, "error:", rec.Err)
			continue
		}
		fmt.Printf("%d id=%s note=%q\n", rec.Num, rec.Fields["id"], rec.Fields["note"])
	}
	// Output:
	// 2 id=1 note="a note, with a comma"
	// 3 id=2 note="two\nlines, and \"quotes\""
	// 5 error: line 5: 2 fields, the header has 3: wrong number of fields
	// 6 id=4 note="plain"
}

// A stray quote that is never closed reads the rest of the input into
// one field. That Record's error wraps ErrEndsInput: nothing after it is
// read, and the caller should say the input ended early.
func ExampleCSV_unclosedQuote() {
	in := "id,url\n1,http://a.example/\n2,\"http://b.example/\n3,http://c.example/\n4,http://d.example/\n"
	for rec := range input.CSV(strings.NewReader(in)) {
		if errors.Is(rec.Err, input.ErrEndsInput) {
			fmt.Println("input ended early:", rec.Err)
			continue
		}
		fmt.Println(rec.Num, rec.Fields["url"])
	}
	// Output:
	// 2 http://a.example/
	// input ended early: line 3, column 3: the quoted field is not closed by the end of the input: lines 4 to 5 were read into it, and the input ends with them (write a " inside a field as "" and quote the field)
}

// To resume a CSV input, read its header from the start with CSVHeader,
// then hand it to CSVFrom with the saved position and the input from its
// Offset on.
func ExampleCSVHeader() {
	in := "id,url\n1,http://a.example/\n2,http://b.example/\n3,http://c.example/\n"

	// A first run stopped after the record of line 2.
	var saved input.Pos
	for rec := range input.CSV(strings.NewReader(in)) {
		saved = rec.End
		if rec.Num == 2 {
			break
		}
	}

	header, err := input.CSVHeader(strings.NewReader(in))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("header:", header)
	rest := strings.NewReader(in[saved.Offset:])
	for rec := range input.CSVFrom(rest, saved, header) {
		fmt.Printf("line %d: id=%s url=%s\n", rec.Num, rec.Fields["id"], rec.Fields["url"])
	}
	// Output:
	// header: [id url]
	// line 3: id=2 url=http://b.example/
	// line 4: id=3 url=http://c.example/
}
