package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// With --job (where -o is written only at the end), -o in a directory
// that does not exist is a usage error before any request; without a job
// -o cannot be created, exit 3, also before any request.
func TestOutputInMissingDirectoryIsUsageError(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	in := writeTestFile(t, dir, "in.txt", urlLines(srv, "/s/", 3, ""))
	nodir := filepath.Join(dir, "nodir")
	args := []string{"fetch", "-q", "--job", filepath.Join(dir, "j.db"), "-o", filepath.Join(nodir, "out.jsonl"), in}
	wantUsage(t, runIn(t, "", args...), args, "no such directory "+nodir)
	args = []string{"fetch", "-q", "-o", filepath.Join(nodir, "out.jsonl"), in}
	if res := runIn(t, "", args...); res.code != exitRuntime {
		t.Errorf("%v: exit %d, want %d: %s", args, res.code, exitRuntime, res.stderr)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests were sent", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "j.db")); err == nil {
		t.Errorf("the job file was made by a refused run")
	}
}
