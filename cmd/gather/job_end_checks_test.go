package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/jobhook"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// The end of a --job run checks the job file no more: the summary takes
// the figures Close kept, and -o written from the job opens the file this
// process just closed cleanly without SQLite's whole-file quick_check
// (1.5-3 s per million results). With or without -q, a run's only check
// is the one of Open; -o still holds every result.
func TestJobRunEndsWithoutWholeFileChecks(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/s/", 20, ""))
	jobFile := filepath.Join(dir, "crawl.db")
	out := filepath.Join(dir, "out.jsonl")
	var whole, checks int
	jobhook.Check = func(path string, w bool) {
		if filepath.Base(path) != "crawl.db" {
			return
		}
		checks++
		if w {
			whole++
		}
	}
	t.Cleanup(func() { jobhook.Check = nil })

	for i, args := range [][]string{
		{"fetch", "-q", "--job", jobFile, "-o", out, urls}, // a new job
		{"fetch", "--job", jobFile, "-o", out, urls},       // all stored already: the summary says so
		{"fetch", "-q", "--job", jobFile, urls},
	} {
		whole, checks = 0, 0
		res := runIn(t, "", args...)
		if res.code != exitOK {
			t.Fatalf("run %d: exit %d: %s", i+1, res.code, res.stderr)
		}
		if whole != 0 || checks > 1 {
			t.Errorf("run %d (%q): %d quick_checks, %d of them whole; want the one of Open, within its budget", i+1, args, checks, whole)
		}
		if i == 1 && !strings.Contains(res.stderr, "all 20 inputs are already stored: 20 ok, 0 failed") {
			t.Errorf("run 2: the summary is %q", res.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n != 20 {
			t.Errorf("run %d: -o holds %d records, want 20", i+1, n)
		}
	}
}
