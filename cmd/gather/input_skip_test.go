package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// commentedList is a plain list with a byte order mark, blank lines and
// comments: lines 2 and 6 are URLs, the other five are skipped.
const commentedList = "\ufeff# my list\nhttp://a/1\n\n   # indented\n\t \nhttp://a/2\n#last"

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
