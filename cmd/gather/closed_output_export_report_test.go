package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runInClosedOutput runs the command in this process with standard output
// a pipe whose reader is gone (as gather export J | head -1 once head has
// exited), and returns what went to standard error and the exit code.
func runInClosedOutput(t *testing.T, args ...string) result {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	var errb bytes.Buffer
	old := stdio
	stdio.in, stdio.out, stdio.err = strings.NewReader(""), w, &errb
	defer func() { stdio = old }()
	code := execute(args)
	return result{stderr: errb.String(), code: code}
}

func TestExportReportClosedOutputExit3(t *testing.T) {
	path := writeJob(t, 6)
	for _, args := range [][]string{
		{"export", path},
		{"export", path, "--format", "csv"},
		{"report", path},
	} {
		res := runInClosedOutput(t, args...)
		if res.code != exitRuntime || strings.Count(res.stderr, "\n") != 1 ||
			!strings.HasPrefix(res.stderr, "gather: the output was closed (broken pipe)") {
			t.Errorf("%v: exit %d, stderr %q; want exit 3 and one line saying the output was closed", args, res.code, res.stderr)
		}
	}
}

func TestReportHTMLErrorNamesTheGivenFile(t *testing.T) {
	path := writeJob(t, 6)
	html := filepath.Join(t.TempDir(), "no", "such", "x.html")
	for _, args := range [][]string{
		{"report", path, "--html", html},
		{"report", path, "--json", html},
		{"export", path, "-o", html},
	} {
		res := runIn(t, "", args...)
		if res.code != exitRuntime || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, html+":") || strings.Contains(res.stderr, ".tmp") {
			t.Errorf("%v: exit %d, stderr %q; want exit 3 and one line naming %s, not a temporary file", args, res.code, res.stderr, html)
		}
	}
}
