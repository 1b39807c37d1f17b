package input

import (
	"errors"
	"fmt"
	"iter"
	"reflect"
	"strings"
	"testing"
)

// describe renders records for comparison (errors by message).
func describe(seq iter.Seq[Record]) []string {
	var out []string
	for r := range seq {
		out = append(out, fmt.Sprintf("%d %v %v %+v", r.Num, r.Fields, r.Err, r.End))
	}
	return out
}

// checkResume reads s whole, then again from the end of every record
// (what a resumed job does), and wants the same records from there on.
func checkResume(t *testing.T, s string, whole func(string) iter.Seq[Record], from func(rest string, at Pos, prefix string) iter.Seq[Record]) {
	var ends []Pos
	for r := range whole(s) {
		ends = append(ends, r.End)
	}
	all := describe(whole(s))
	for i, end := range ends {
		if end.Offset > int64(len(s)) || (i > 0 && end.Offset < ends[i-1].Offset) {
			t.Fatalf("record %d ends at %+v in %d bytes", i, end, len(s))
		}
		got := describe(from(s[end.Offset:], end, s[:end.Offset]))
		if want := all[i+1:]; !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("resumed after record %d at %+v:\n got %q\nwant %q", i, end, got, want)
		}
	}
}

func FuzzResumeLinesJSONL(f *testing.F) {
	f.Add("{\"a\":1}\n\n{\"b\":2}\r\n[1]\n{")
	f.Add("\ufeff{\"a\":1}\nx")
	f.Add("\ufeff\n# comment\n  #x\n{\"a\":1}\n")
	f.Add("{\"a\":1}\n \n\t\n{\"b\":2}\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		checkResume(t, s, func(s string) iter.Seq[Record] { return JSONL(strings.NewReader(s)) },
			func(rest string, at Pos, _ string) iter.Seq[Record] { return JSONLFrom(strings.NewReader(rest), at) })
		var last Pos
		for r := range JSONL(strings.NewReader(s)) {
			last = r.End
		}
		if last.Offset != int64(len(s)) {
			t.Fatalf("the last record ends at %+v, the input has %d bytes", last, len(s))
		}
	})
}

func FuzzResumeCSV(f *testing.F) {
	f.Add("a,b\n1,2\n\n\"x\ny\",3\r\n4\n5,6")
	f.Add("\ufeffa\n\"\"\n")
	f.Add("\ufeffa,b\n# c,d\n1,\"x\n2,3\n")
	f.Add("\n \na,b\n1,2\n \t\n3,4\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		checkResume(t, s, func(s string) iter.Seq[Record] { return CSV(strings.NewReader(s)) },
			func(rest string, at Pos, prefix string) iter.Seq[Record] {
				h, err := CSVHeader(strings.NewReader(prefix))
				switch {
				case errors.Is(err, ErrNoHeader):
					h = nil // only empty lines so far: rest starts with the header
				case err != nil:
					return CSVFrom(strings.NewReader(""), at, nil) // a bad header ends the input
				}
				return CSVFrom(strings.NewReader(rest), at, h)
			})
	})
}

func TestLinesEnds(t *testing.T) {
	var ends []Pos
	for l := range Lines(strings.NewReader("ab\r\n\nc")) {
		ends = append(ends, l.End)
	}
	want := []Pos{{1, 4}, {2, 5}, {3, 6}}
	if !reflect.DeepEqual(ends, want) {
		t.Fatalf("ends %v, want %v", ends, want)
	}
}
