package run

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
)

// commentedList is a plain list with a byte order mark, blank lines and
// comments: lines 2 and 6 are URLs, the other five are skipped.
const commentedList = "\ufeff# my list\nhttp://a/1\n\n   # indented\n\t \nhttp://a/2\n#last"

// The skipped lines of a plain list: blank lines and comments make no
// request (so no record and no failure), are counted, and are told to
// pass, never to take; line numbers stay physical. Both ways of reading a
// plain list (URLs as they are, and records for templates) agree.
func TestPlainListSkipsBlankAndCommentLines(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []string
	}{
		{"plain URLs", nil},
		{"records for templates", []string{"X-Line: ${{ .url }}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := newRequestSpec("lines", "GET", "", tc.headers, nil, nil, http.Header{})
			if err != nil {
				t.Fatal(err)
			}
			var taken, passed []int
			take := func(num int, end input.Pos) bool { taken = append(taken, num); return true }
			pass := func(end input.Pos) { passed = append(passed, end.Line) }
			var got []fetch.Request
			for req := range spec.requestsContext(context.Background(), strings.NewReader(commentedList), input.Pos{}, nil, take, pass) {
				got = append(got, req)
			}
			if len(got) != 2 || got[0].Line != 2 || got[1].Line != 6 ||
				got[0].URL != "http://a/1" || got[1].URL != "http://a/2" || got[0].Err != nil || got[1].Err != nil {
				t.Fatalf("requests %+v, want lines 2 and 6 only", got)
			}
			if !reflect.DeepEqual(taken, []int{2, 6}) || !reflect.DeepEqual(passed, []int{1, 3, 4, 5, 7}) {
				t.Fatalf("taken %v, passed %v", taken, passed)
			}
			if n := spec.skippedLines(); n != 5 {
				t.Fatalf("%d skipped, want 5", n)
			}
		})
	}
}

// Every line of a plain list is either a request or skipped, once, in
// order; resuming after any of them (at the position take or pass was
// given) yields the rest the same.
func FuzzPlainListResume(f *testing.F) {
	f.Add(commentedList)
	f.Add("\ufeff\n#\n  #x\r\nhttp://a/1\r\n\t\n")
	f.Add("\ufeff")
	f.Add("a\n\n#b\nc")
	f.Fuzz(func(t *testing.T, s string) {
		type item struct {
			line int
			end  input.Pos
			skip bool
		}
		read := func(rest string, at input.Pos) []item {
			spec, err := newRequestSpec("lines", "GET", "", nil, nil, nil, http.Header{})
			if err != nil {
				t.Fatal(err)
			}
			var items []item
			take := func(num int, end input.Pos) bool { items = append(items, item{num, end, false}); return true }
			pass := func(end input.Pos) { items = append(items, item{end.Line, end, true}) }
			n := 0
			for range spec.requestsContext(context.Background(), strings.NewReader(rest), at, nil, take, pass) {
				n++
			}
			skipped := 0
			for _, it := range items {
				if it.skip {
					skipped++
				}
			}
			if int64(skipped) != spec.skippedLines() || n+skipped != len(items) {
				t.Fatalf("%q: %d requests, %d skipped (counted %d), %d items", s, n, skipped, spec.skippedLines(), len(items))
			}
			return items
		}
		all := read(s, input.Pos{})
		for i, it := range all {
			if it.line != i+1 || it.end.Line != i+1 {
				t.Fatalf("%q: item %d is %+v", s, i, it)
			}
			if rest := read(s[it.end.Offset:], it.end); !reflect.DeepEqual(rest, all[i+1:]) && len(rest)+len(all[i+1:]) > 0 {
				t.Fatalf("%q: resumed after %+v: %+v, want %+v", s, it, rest, all[i+1:])
			}
		}
		if len(all) > 0 && all[len(all)-1].end.Offset != int64(len(s)) {
			t.Fatalf("%q: the last line ends at %+v of %d bytes", s, all[len(all)-1].end, len(s))
		}
	})
}

// Once the run is stopping, a skipped line is not passed either: it may
// be a line cut short by the stop.
func TestSkippedLineAfterStopNotPassed(t *testing.T) {
	for _, headers := range [][]string{nil, {"X: ${{ .url }}"}} {
		spec, err := newRequestSpec("lines", "GET", "", headers, nil, nil, http.Header{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var passed []int
		take := func(int, input.Pos) bool { cancel(); return true }
		pass := func(end input.Pos) { passed = append(passed, end.Line) }
		for range spec.requestsContext(ctx, strings.NewReader("#a\nhttp://a/1\n#b\n"), input.Pos{}, nil, take, pass) {
		}
		if !reflect.DeepEqual(passed, []int{1}) {
			t.Fatalf("headers %v: passed %v, want [1]", headers, passed)
		}
	}
}
