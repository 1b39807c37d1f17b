package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/jobfixture"
)

// damagedJob writes a job of 5,000 results and overwrites the header of
// every 5th page past the first two (the results' b-tree pages, mostly),
// and returns the file and its damaged content.
func damagedJob(t *testing.T) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "crawl.db")
	if err := jobfixture.Synthetic(context.Background(), path, 5000, 1); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	for off := 3 * page; off+page <= len(data); off += 5 * page {
		copy(data[off:off+8], "\xff\xee\xdd\xcc\xbb\xaa\x99\x88")
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// A damaged job file is refused by fetch, report and export alike: one
// line saying so, a non-zero exit, nothing written to the job, and no
// output written (no half report, no half export).
func TestDamagedJobRefusedByEveryCommand(t *testing.T) {
	path, data := damagedJob(t)
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", "http://127.0.0.1:1/x\n")
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"fetch", "-q", "--job", path, urls},
		{"report", path},
		{"report", path, "--html", out + ".html", "--json", out + ".json"},
		{"export", path},
		{"export", path, "-o", out + ".jsonl"},
		{"export", path, "--format", "csv", "-o", out + ".csv"},
	} {
		res := gatherRaw(t, args...)
		if res.code == 0 || !strings.HasPrefix(res.stderr, "gather: ") || !strings.Contains(res.stderr, "damaged") ||
			strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want a non-zero exit and one line saying the job is damaged", args[0], res.code, res.stderr)
		}
		if res.stdout != "" {
			t.Errorf("%v: wrote %d bytes to standard output", args, len(res.stdout))
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
			t.Fatalf("%v: the damaged job file was changed", args)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*out*")); len(m) > 0 {
		t.Errorf("outputs written from a damaged job: %v", m)
	}
}
