package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
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

// A commented list is not a failure: exit 0, one record per URL.
func TestFetchCommentedListExitsZero(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	list := strings.ReplaceAll(commentedList, "http://a", srv.URL())
	file := filepath.Join(t.TempDir(), "urls.txt")
	if err := os.WriteFile(file, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	res := gather(t, "", "fetch", file)
	if res.code != exitOK || len(res.records) != 2 {
		t.Fatalf("exit %d, %d records, want 0 and 2; stderr:\n%s", res.code, len(res.records), res.stderr)
	}
	if !strings.Contains(res.stderr, "5 inputs skipped") {
		t.Errorf("the summary does not count the 5 skipped lines:\n%s", res.stderr)
	}
	for _, r := range res.records {
		if (r.Line != 2 && r.Line != 6) || r.Error != nil {
			t.Fatalf("record %+v", r)
		}
	}
}

// With a job, skipped lines are stored as nothing, do not hold back the
// job's end, and a second run fetches nothing again.
func TestJobCommentedList(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	list := "# head\n" + srv.URL() + "/s/1\n\n# mid\n" + srv.URL() + "/s/2\n# tail\n\n"
	file := writeTestFile(t, dir, "urls.txt", list)
	jobFile := filepath.Join(dir, "j.gather")
	for run := 1; run <= 2; run++ {
		res := gather(t, "", "fetch", file, "--job", jobFile, "-o", "-")
		if res.code != exitOK {
			t.Fatalf("run %d: exit %d; stderr:\n%s", run, res.code, res.stderr)
		}
	}
	stored := storedLines(t, jobFile)
	if len(stored) != 2 || stored[2] == "" || stored[5] == "" {
		t.Fatalf("stored %v, want lines 2 and 5", stored)
	}
	if n := requestsUnder(srv, "/s/"); n != 2 {
		t.Fatalf("%d requests, want 2 (the second run fetches nothing)", n)
	}
	if got := jobMeta(t, jobFile, "total"); got != "2" {
		t.Fatalf("the job's total is %q, want 2 records", got)
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

// Skipped lines at the end of a plain list, more than the job's hash lag
// (128 KiB) of them: the job's final checkpoint must pair a line with its
// own offset, so that a line appended later is stored under its own
// number. It needs job.Input.Pass (lines that are no record) and
// fetch.go passing it to requestsContext.
func TestJobTrailingCommentsCheckpoint(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	// Lines of 16 bytes, so that the hash lag (a multiple of 16) ends on
	// a line's end, where the job takes a checkpoint.
	var b strings.Builder
	first := srv.URL() + "/t/1?"
	for (len(first)+1)%16 != 0 {
		first += "x"
	}
	b.WriteString(first + "\n")
	for b.Len() < 300<<10 {
		b.WriteString("#23456789012345\n")
	}
	n := strings.Count(b.String(), "\n")
	file := writeTestFile(t, dir, "urls.txt", b.String())
	jobFile := filepath.Join(dir, "j.gather")
	res := gather(t, "", "fetch", file, "--job", jobFile, "-o", "-")
	if res.code != exitOK {
		t.Fatalf("run 1: exit %d: %s", res.code, res.stderr)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(srv.URL() + "/t/2\n")
	f.Close()
	if res = gather(t, "", "fetch", file, "--job", jobFile, "-o", "-"); res.code != exitOK {
		t.Fatalf("run 2: exit %d: %s", res.code, res.stderr)
	}
	stored := storedLines(t, jobFile)
	if stored[n+1] == "" {
		t.Fatalf("the appended line %d is stored as %v", n+1, stored)
	}
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
