package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An output of export or report that is the job file, under any name
// (itself, a symbolic link, a hard link), is a usage error of one line,
// and the job is left as it is.
func TestExportReportOutputNamingTheJobRefused(t *testing.T) {
	path := writeJob(t, 6)
	dir := filepath.Dir(path)
	sym, hard := filepath.Join(dir, "sym.db"), filepath.Join(dir, "hard.db")
	if err := os.Symlink(path, sym); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(path, hard); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	for _, args := range [][]string{
		{"export", path, "-o", path},
		{"export", path, "--format", "csv", "-o", sym},
		{"export", sym, "-o", hard},
		{"report", path, "--html", path},
		{"report", path, "--json", hard},
		{"report", path, "--html", filepath.Join(dir, "ok.html"), "--json", sym},
	} {
		res := gatherRaw(t, args...)
		if res.code != exitUsage || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, "would destroy it") {
			t.Errorf("%v: exit %d, %q; want exit 2 and one line", args, res.code, res.stderr)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
			t.Fatalf("%v: the job file was changed", args)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ok.html")); err == nil {
		t.Error("report wrote --html although --json was refused")
	}
}
