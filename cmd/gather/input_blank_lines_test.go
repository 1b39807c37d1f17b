package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// blankLined are CSV and JSONL inputs with blank lines (empty, white
// space only) before, among and after their records, the last a trailing
// blank line as editors add: records on lines 3 and 6.
var blankLined = []struct{ format, text string }{
	{"csv", "\nurl\nhttp://a/1\n \n\t\nhttp://a/2\n\n"},
	{"csv", "url\r\n\r\nhttp://a/1\r\n  \r\n\r\nhttp://a/2\r\n\r\n"},
	{"jsonl", "\n\n{\"url\":\"http://a/1\"}\n \n\t\r\n{\"url\":\"http://a/2\"}\n\n"},
}

// A trailing blank line is no failure: exit 0; and a job run twice over
// such an input fetches nothing the second time.
func TestFetchTrailingBlankLineExitsZero(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	for i, in := range blankLined {
		text := strings.ReplaceAll(in.text, "http://a", srv.URL()+"/b")
		file := writeTestFile(t, dir, "in"+string(rune('0'+i))+"."+in.format, text)
		res := runIn(t, "", "fetch", file)
		if res.code != exitOK || len(res.records) != 2 || !strings.Contains(res.stderr, " inputs skipped") {
			t.Errorf("%s %q: exit %d, %d records; stderr:\n%s", in.format, in.text, res.code, len(res.records), res.stderr)
		}
		jobFile := filepath.Join(dir, "j"+string(rune('0'+i))+".db")
		before := requestsUnder(srv, "/b/")
		for run := 1; run <= 2; run++ {
			if res := runIn(t, "", "fetch", "-q", file, "--job", jobFile); res.code != exitOK {
				t.Errorf("%s %q: job run %d: exit %d; stderr:\n%s", in.format, in.text, run, res.code, res.stderr)
			}
		}
		if n := requestsUnder(srv, "/b/") - before; n != 2 {
			t.Errorf("%s %q: %d requests over two job runs, want 2", in.format, in.text, n)
		}
		if got := jobMeta(t, jobFile, "total"); got != "2" {
			t.Errorf("%s %q: the job's total is %q, want 2", in.format, in.text, got)
		}
	}
}
