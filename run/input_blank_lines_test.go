package run

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/gogather/gather/input"
)

// blankLined are CSV and JSONL inputs with blank lines (empty, white
// space only) before, among and after their records, the last a trailing
// blank line as editors add: records on lines 3 and 6.
var blankLined = []struct{ format, text string }{
	{"csv", "\nurl\nhttp://a/1\n \n\t\nhttp://a/2\n\n"},
	{"csv", "url\r\n\r\nhttp://a/1\r\n  \r\n\r\nhttp://a/2\r\n\r\n"},
	{"jsonl", "\n\n{\"url\":\"http://a/1\"}\n \n\t\r\n{\"url\":\"http://a/2\"}\n\n"},
}

// Blank lines of a CSV or JSONL input are skipped as a plain list's are:
// no request, counted, told to pass and never to take; line numbers stay
// physical.
func TestCSVJSONLBlankLinesSkipped(t *testing.T) {
	for _, in := range blankLined {
		spec, err := newRequestSpec(in.format, "GET", "", nil, nil, nil, http.Header{})
		if err != nil {
			t.Fatal(err)
		}
		var taken, passed []int
		take := func(num int, end input.Pos) bool { taken = append(taken, num); return true }
		pass := func(end input.Pos) { passed = append(passed, end.Line) }
		var lines []int
		for req := range spec.requestsContext(context.Background(), strings.NewReader(in.text), input.Pos{}, nil, take, pass) {
			if req.Err != nil {
				t.Errorf("%s %q: line %d: %v", in.format, in.text, req.Line, req.Err)
			}
			lines = append(lines, req.Line)
		}
		wantPassed := map[string][]int{
			blankLined[0].text: {1, 4, 5, 7}, // line 2 is the header
			blankLined[1].text: {2, 4, 5, 7}, // line 1 is the header
			blankLined[2].text: {1, 2, 4, 5, 7},
		}[in.text]
		if !reflect.DeepEqual(lines, []int{3, 6}) || !reflect.DeepEqual(taken, []int{3, 6}) || !reflect.DeepEqual(passed, wantPassed) {
			t.Errorf("%s %q: requests of lines %v, taken %v, passed %v; want [3 6], [3 6], %v", in.format, in.text, lines, taken, passed, wantPassed)
		}
		if n := spec.skippedLines(); n != int64(len(wantPassed)) {
			t.Errorf("%s %q: %d skipped, want %d", in.format, in.text, n, len(wantPassed))
		}
	}
}
