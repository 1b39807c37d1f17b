package input

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func records(seq func(func(Record) bool)) []Record {
	var out []Record
	for r := range seq {
		out = append(out, r)
	}
	return out
}

// want is a compact expectation: fields for a good record, or a substring
// of the error.
type want struct {
	num    int
	fields map[string]any
	err    string
}

func check(t *testing.T, got []Record, wants []want) {
	t.Helper()
	for i := 0; i < len(got) || i < len(wants); i++ {
		if i >= len(got) {
			t.Fatalf("record %d missing; want %+v", i, wants[i])
		}
		if i >= len(wants) {
			t.Fatalf("unexpected record %d: %+v", i, got[i])
		}
		g, w := got[i], wants[i]
		if g.Num != w.num {
			t.Errorf("record %d: Num = %d, want %d (%+v)", i, g.Num, w.num, g)
		}
		switch {
		case w.err != "":
			if g.Err == nil || !strings.Contains(g.Err.Error(), w.err) {
				t.Errorf("record %d: Err = %v, want %q", i, g.Err, w.err)
			}
			if g.Fields != nil {
				t.Errorf("record %d: Fields set with an error: %v", i, g.Fields)
			}
		case g.Err != nil:
			t.Errorf("record %d: unexpected error %v", i, g.Err)
		case !reflect.DeepEqual(g.Fields, w.fields):
			t.Errorf("record %d: Fields = %#v, want %#v", i, g.Fields, w.fields)
		}
	}
}

func row(num int, kv ...string) want {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return want{num: num, fields: m}
}

func TestCSV(t *testing.T) {
	in := "\ufeffid, name ,note\r\n" +
		"1,ann,plain\r\n" +
		`2,"bob, jr","say ""hi"""` + "\n" +
		`3,"multi` + "\r\n" + `line` + "\n\n" + `field",x` + "\n" +
		"\n" +
		"4,too,many,fields\n" +
		"5,few\n" +
		"\r\n" +
		`6,,""` + "\n" +
		"7,last,no newline"
	check(t, records(CSV(strings.NewReader(in))), []want{
		row(2, "id", "1", "name", "ann", "note", "plain"),
		row(3, "id", "2", "name", "bob, jr", "note", `say "hi"`),
		row(4, "id", "3", "name", "multi\nline\n\nfield", "note", "x"),
		{num: 8, err: "line 8: empty line"},
		{num: 9, err: "line 9: 4 fields, the header has 3"},
		{num: 10, err: "line 10: 2 fields, the header has 3"},
		{num: 11, err: "line 11: empty line"},
		row(12, "id", "6", "name", "", "note", ""),
		row(13, "id", "7", "name", "last", "note", "no newline"),
	})
}

func TestCSVHeader(t *testing.T) {
	for _, c := range []struct {
		in    string
		wants []want
	}{
		{"", nil},
		{"a,b\n", nil},
		{"\n\na\nx", []want{{num: 1, err: "line 1: empty line"}, {num: 2, err: "line 2: empty line"}, row(4, "a", "x")}},
		{"a,b,a\n1,2,3\n", []want{{num: 1, err: `line 1: header: column 3, "a", has the name of column 1`}}},
		{"a,,c\n1,2,3\n", []want{{num: 1, err: "line 1: header: column 2 has no name"}}},
		{"a, \n", []want{{num: 1, err: "column 2 has no name"}}},
		{"a,b\"\n1,2\n", []want{{num: 1, err: "header: line 1, column 4"}}},
		{"\n\"a\nb\",c\n1,2\n", []want{{num: 1, err: "empty line"}, row(4, "a\nb", "1", "c", "2")}},
	} {
		t.Run(fmt.Sprintf("%q", c.in), func(t *testing.T) {
			check(t, records(CSV(strings.NewReader(c.in))), c.wants)
		})
	}
}

func TestCSVParseErrors(t *testing.T) {
	in := "a,b\n" +
		"1,x\"y\n" + // bare quote
		"\"2\"x,y\n" + // text after a closing quote
		"3,ok\n" +
		"\"4\nstill\" x,y\n" + // quote error on the second line of a row
		"5,ok\n" +
		"6,\"never\nclosed\n"
	got := records(CSV(strings.NewReader(in)))
	check(t, got, []want{
		{num: 2, err: "line 2, column 4: a \" in an unquoted field"},
		{num: 3, err: "line 3, column 3: a quoted field's closing \""},
		row(4, "a", "3", "b", "ok"),
		{num: 5, err: "line 6, column 6: a quoted field's closing"},
		row(7, "a", "5", "b", "ok"),
		{num: 8, err: "line 8, column 3: the quoted field is not closed"},
	})
	if !errors.Is(got[0].Err, csv.ErrBareQuote) || !errors.Is(got[1].Err, csv.ErrQuote) ||
		!errors.Is(got[3].Err, csv.ErrQuote) || !errors.Is(got[5].Err, csv.ErrQuote) {
		t.Fatalf("errors do not match encoding/csv's: %v", got)
	}
	if bad := records(CSV(strings.NewReader("a\n\n"))); !errors.Is(bad[0].Err, ErrEmptyLine) {
		t.Fatalf("empty line error = %v", bad[0].Err)
	}
	if bad := records(CSV(strings.NewReader("a,b\n1\n"))); !errors.Is(bad[0].Err, csv.ErrFieldCount) {
		t.Fatalf("field count error = %v", bad[0].Err)
	}
}

func TestCSVLong(t *testing.T) {
	long := strings.Repeat("x", MaxLine+1)
	in := "a,b\n" +
		"1," + long + "\n" + // a long line
		"2,ok\n" +
		"3,\"" + strings.Repeat("y\n", MaxLine/2+10) + "\"\n" + // a long quoted field over many short lines
		"4,ok\n" +
		"5,\"start\n" + long + "\n\"\n" + // a long line inside a quoted field: the row ends there
		"6,ok\n"
	check(t, records(CSV(strings.NewReader(in))), []want{
		{num: 2, err: fmt.Sprintf("line 2: longer than %d bytes", MaxLine)},
		row(3, "a", "2", "b", "ok"),
		{num: 4, err: fmt.Sprintf("line 4: a row of more than %d bytes", MaxLine)},
		row(MaxLine/2+15, "a", "4", "b", "ok"),
		{num: MaxLine/2 + 16, err: fmt.Sprintf("line %d: longer than", MaxLine/2+17)},
		{num: MaxLine/2 + 18, err: "the quoted field is not closed"}, // the lone " opens a field
	})
	fits := strings.Repeat("z", MaxLine-2)
	check(t, records(CSV(strings.NewReader("a\n"+fits+"\n\""+fits+"\""))), []want{
		row(2, "a", fits), row(3, "a", fits),
	})
}

func TestCSVReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, in := range []string{"a,b\n1,2\n", "a,b\n1,\"2\n"} {
		got := records(CSV(io.MultiReader(strings.NewReader(in), iotest.ErrReader(boom))))
		last := got[len(got)-1]
		if !errors.Is(last.Err, boom) || !strings.Contains(last.Err.Error(), "reading") {
			t.Fatalf("%q: got %+v", in, got)
		}
	}
	if got := records(CSV(iotest.ErrReader(boom))); len(got) != 1 || !errors.Is(got[0].Err, boom) || got[0].Num != 1 {
		t.Fatalf("got %+v", got)
	}
}

func TestCSVStreams(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	go func() {
		pw.Write([]byte("a,b\n1,2\n"))
	}()
	for rec := range CSV(pr) {
		if rec.Num != 2 || rec.Fields["b"] != "2" {
			t.Fatalf("got %+v", rec)
		}
		break // the writer wrote no more: reading must not have waited for more
	}
	n := 0
	for range CSV(strings.NewReader("a\n1\n2\n3\n")) {
		n++
		break
	}
	if n != 1 {
		t.Fatal(n)
	}
}

// encodingCSVRows reads s with encoding/csv: the start line of each row and
// its fields, or the kind of its error.
func encodingCSVRows(s string) []string {
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	var out []string
	for {
		rec, err := r.Read()
		switch {
		case err == io.EOF:
			return out
		case err != nil:
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return append(out, "fatal "+err.Error())
			}
			out = append(out, fmt.Sprintf("%d error %v", pe.StartLine, errors.Is(err, csv.ErrBareQuote)))
		default:
			line, _ := r.FieldPos(0)
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && strings.TrimSpace(strings.Split(s, "\n")[line-1]) == "" {
				continue // a line of white space only: blank here, as an empty line is for both
			}
			out = append(out, fmt.Sprintf("%d %q", line, rec))
		}
	}
}

func ourCSVRows(s string) []string {
	var out []string
	for row := range csvRows(strings.NewReader(s), Pos{}) {
		switch {
		case row.empty:
		case row.err != nil:
			out = append(out, fmt.Sprintf("%d error %v", row.start, errors.Is(row.err, csv.ErrBareQuote)))
		default:
			out = append(out, fmt.Sprintf("%d %q", row.start, row.fields))
		}
	}
	return out
}

func TestCSVRowsMatchEncodingCSV(t *testing.T) {
	for _, s := range csvSeeds {
		if got, want := ourCSVRows(s), encodingCSVRows(s); !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %q\nwant %q", s, got, want)
		}
	}
}

var csvSeeds = []string{
	"", "\n", "\r\n", "\r", "a", "a\r", "a\r\r", "a,b\n1,2", "a,b\r\n1,2\r\n\r\n",
	"\"a\nb\",c\n\n1,2\n", "\"a\"\"b\",\"\"\n", "\"a\"b\n", "a\"b\n", "\"a\n\n\nb\"\nx",
	"\"\n\r", "\"a\r\nb\"\r\n", ",,\n,\n", "\"a\",\"b\nc\"x\nd\n", "\"\"\"\"", "\"x\n\"\"\n", "a,\"",
	// Blank lines: white space only, trailing as editors add.
	" \n", "a\n \n\t\n", "a,b\n1,2\n\n", "a,b\r\n1,2\r\n \r\n", "\" \"\n \n", "\"a\n \nb\"\n",
}

// every line of the input is in exactly one row, in order.
func checkCSVLines(t *testing.T, s string) {
	t.Helper()
	end := 0
	for row := range csvRows(strings.NewReader(s), Pos{}) {
		if row.start != end+1 || row.end < row.start {
			t.Fatalf("%q: row spans %d-%d after a row ending at %d", s, row.start, row.end, end)
		}
		end = row.end
	}
	s = strings.TrimPrefix(s, bom)
	lines := strings.Count(s, "\n")
	if s != "" && !strings.HasSuffix(s, "\n") {
		lines++
	}
	if end != lines {
		t.Fatalf("%q: rows end at line %d, the input has %d", s, end, lines)
	}
}

func FuzzCSV(f *testing.F) {
	for _, s := range csvSeeds {
		f.Add(s)
		f.Add("h,i\n" + s)
	}
	f.Add("\ufeffa,b\n1,2\n")
	f.Add("a,b\n1,\"x\n2,3\n")
	f.Add("\ufeff\"a\nb\n")
	f.Fuzz(func(t *testing.T, s string) {
		checkCSVLines(t, s)
		prev, ended := 0, false
		for rec := range CSV(strings.NewReader(s)) {
			if ended {
				t.Fatalf("%q: a record after one that ends the input: %+v", s, rec)
			}
			ended = errors.Is(rec.Err, ErrEndsInput)
			if rec.Num <= prev {
				t.Fatalf("%q: line numbers go from %d to %d", s, prev, rec.Num)
			}
			prev = rec.Num
			if (rec.Err == nil) == (rec.Fields == nil) {
				t.Fatalf("%q: record %+v has both or neither of Fields and Err", s, rec)
			}
			if rec.Err != nil && !strings.HasPrefix(rec.Err.Error(), "line ") && !strings.HasPrefix(rec.Err.Error(), "header: line ") {
				t.Fatalf("%q: error without a line: %v", s, rec.Err)
			}
		}
		if !strings.HasPrefix(s, bom) {
			if got, want := ourCSVRows(s), encodingCSVRows(s); !reflect.DeepEqual(got, want) {
				t.Fatalf("%q:\n got %q\nwant %q (encoding/csv)", s, got, want)
			}
		}
	})
}

func TestJSONL(t *testing.T) {
	in := "\ufeff{\"id\": 12345678901234567890, \"f\": 1.50, \"s\": \"x\", \"n\": {\"a\": [1, true, null]}}\n" +
		"\n" +
		"  \t\r\n" +
		"{\"a\": x}\n" +
		"  [1, 2]\n" +
		"{\"a\": 1} {\"b\": 2}\n" +
		"{\"a\": 1\n" +
		"null\n" +
		"{} \r\n" +
		strings.Repeat(" ", MaxLine+1) + "\n" +
		`{"last": "no newline"}`
	got := records(JSONL(strings.NewReader(in)))
	check(t, got, []want{
		{num: 1, fields: map[string]any{
			"id": json.Number("12345678901234567890"), "f": json.Number("1.50"), "s": "x",
			"n": map[string]any{"a": []any{json.Number("1"), true, nil}},
		}},
		{num: 2, err: "line 2: empty line"},
		{num: 3, err: "line 3: empty line"},
		{num: 4, err: "line 4, column 7: invalid character 'x'"},
		{num: 5, err: "line 5, column 3: an array, not a JSON object"},
		{num: 6, err: "line 6, column 10: more after the JSON value"},
		{num: 7, err: "line 7, column 8: unexpected end of line"},
		{num: 8, err: "line 8, column 1: null, not a JSON object"},
		{num: 9, fields: map[string]any{}},
		{num: 10, err: "line 10: longer than"},
		{num: 11, fields: map[string]any{"last": "no newline"}},
	})
	if !errors.Is(got[1].Err, ErrEmptyLine) {
		t.Fatal(got[1].Err)
	}
	var se *json.SyntaxError
	if !errors.As(got[3].Err, &se) {
		t.Fatalf("%T", got[3].Err)
	}
	boom := errors.New("disk on fire")
	got = records(JSONL(io.MultiReader(strings.NewReader("{}\n"), iotest.ErrReader(boom))))
	if len(got) != 2 || !errors.Is(got[1].Err, boom) {
		t.Fatalf("got %+v", got)
	}
}

func FuzzJSONL(f *testing.F) {
	for _, s := range []string{"{}\n", "{\"a\":1}\n\n[1]\n", "{\"a\"", "\ufeff{\"a\":\"\\u00e9\"}\r\n", " {} {} ", "1e999", "{\"a\":1e999}", "\ufeff# c\n\n{}", "{}\n\n", "{}\n \t\r\n{}\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := 0
		for range Lines(strings.NewReader(s)) {
			n++
		}
		prev := 0
		for rec := range JSONL(strings.NewReader(s)) {
			if rec.Num != prev+1 {
				t.Fatalf("%q: line numbers go from %d to %d", s, prev, rec.Num)
			}
			prev = rec.Num
			if (rec.Err == nil) == (rec.Fields == nil) {
				t.Fatalf("%q: record %+v has both or neither of Fields and Err", s, rec)
			}
			if rec.Err != nil && !strings.HasPrefix(rec.Err.Error(), fmt.Sprintf("line %d", rec.Num)) {
				t.Fatalf("%q: error without its line: %v", s, rec.Err)
			}
		}
		if prev != n {
			t.Fatalf("%q: %d records for %d lines", s, prev, n)
		}
	})
}
