package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// gather fetch - < file: standard input is a regular file, so its lines
// are counted for the display (from where its offset stands, as the run
// reads it), and the count is over when the run returns.
func TestProgressCountsStdinRegularFile(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	const n = 50
	file := writeTestFile(t, t.TempDir(), "in.txt", urlLines(srv, "/s/", n, ""))
	for _, skip := range []int{0, 1} {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		if skip > 0 {
			// (read first; gather fetch -) < file: the run starts after it.
			first, _, _ := strings.Cut(urlLines(srv, "/s/", 1, ""), "\n")
			if _, err := f.Seek(int64(len(first)+1), io.SeekStart); err != nil {
				t.Fatal(err)
			}
		}
		var shown *progress
		var errb bytes.Buffer
		oldNew, oldStdio := newProgress, stdio
		newProgress = func() *progress {
			shown = newProgressTo(&errb, 0)
			return shown
		}
		stdio.in, stdio.out, stdio.err = f, io.Discard, &errb
		code := execute([]string{"fetch", "-"})
		newProgress, stdio = oldNew, oldStdio
		f.Close()
		if code != exitOK {
			t.Fatalf("skip %d: exit %d: %s", skip, code, errb.String())
		}
		if shown == nil {
			t.Fatal("no display")
		}
		if got := shown.total.Load(); got != int64(n-skip) {
			t.Errorf("skip %d: total %d, want %d", skip, got, n-skip)
		}
	}
}
