package input

import (
	"encoding/csv"
	"errors"
	"strings"
	"testing"
)

// A stray quote that opens a field nobody closes reads the rest of the
// input into that field: its record says where the quote is, which lines
// it swallowed, and wraps ErrEndsInput so that a caller can say the input
// ended early because of it.
func TestCSVUnclosedQuoteEndsInput(t *testing.T) {
	in := "a,b\n1,\"x\n2,3\n4,5\n"
	got := records(CSV(strings.NewReader(in)))
	if len(got) != 1 {
		t.Fatalf("%d records: %+v", len(got), got)
	}
	r := got[0]
	if r.Num != 2 || r.End != (Pos{Line: 4, Offset: int64(len(in))}) {
		t.Fatalf("record %+v, want line 2 ending at the input's end", r)
	}
	msg := r.Err.Error()
	if !errors.Is(r.Err, ErrEndsInput) || !errors.Is(r.Err, csv.ErrQuote) ||
		!strings.Contains(msg, "line 2, column 3") || !strings.Contains(msg, "lines 3 to 4") {
		t.Fatalf("error %q: want ErrEndsInput and csv.ErrQuote, the quote's line and column, and the lines read into it", msg)
	}

	// A quote closed later is no such error; nor is a bad row that ends
	// on its own line.
	for _, s := range []string{"a,b\n1,\"x\n2\",3\n4,5\n", "a,b\n1,x\"y\n4,5\n", "a,b\n1,\"x\"y\n4,5\n"} {
		for r := range CSV(strings.NewReader(s)) {
			if errors.Is(r.Err, ErrEndsInput) {
				t.Fatalf("%q: %v", s, r.Err)
			}
		}
	}
}

// A bad header ends the input too, and says so.
func TestCSVBadHeaderEndsInput(t *testing.T) {
	for _, s := range []string{"a,a\n1,2\n", "a,\"b\n1,2\n", "a,b\"\n1,2\n"} {
		got := records(CSV(strings.NewReader(s)))
		if len(got) != 1 || !errors.Is(got[0].Err, ErrEndsInput) {
			t.Fatalf("%q: %+v", s, got)
		}
	}
}
