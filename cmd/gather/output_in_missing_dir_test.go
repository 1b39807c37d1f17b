package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gogather/gather/internal/upstream"
)

// -o in a directory that does not exist is a usage error before any
// request, with --job (where -o is written only at the end) as without.
func TestOutputInMissingDirectoryIsUsageError(t *testing.T) {
	srv := startUpstream(t, upstream.Config{})
	dir := t.TempDir()
	in := writeTestFile(t, dir, "in.txt", urlLines(srv, "/s/", 3, ""))
	nodir := filepath.Join(dir, "nodir")
	for _, args := range [][]string{
		{"fetch", "-q", "--job", filepath.Join(dir, "j.db"), "-o", filepath.Join(nodir, "out.jsonl"), in},
		{"fetch", "-q", "-o", filepath.Join(nodir, "out.jsonl"), in},
	} {
		requests := srv.Stats().Requests
		wantUsage(t, runIn(t, "", args...), args, "no such directory "+nodir)
		if n := srv.Stats().Requests; n != requests {
			t.Errorf("%v: %d requests were sent", args, n-requests)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "j.db")); err == nil {
		t.Errorf("the job file was made by a refused run")
	}
}
