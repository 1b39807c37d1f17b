package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// -o or --stats that reaches a new job file through a symbolic link to
// its directory is the job file: a usage error before any request, and
// the job file, once made, is never overwritten by the output.
func TestOutputReachingANewJobThroughALinkedDirIsRefused(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	in := writeTestFile(t, dir, "in.txt", urlLines(srv, "/s/", 3, ""))
	d := filepath.Join(dir, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "L")
	if err := os.Symlink(d, link); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"-o", "--stats"} {
		jobFile := filepath.Join(d, "new"+strings.TrimLeft(flag, "-")+".db")
		out := filepath.Join(link, filepath.Base(jobFile))
		requests := srv.Stats().Requests
		res := runIn(t, "", "fetch", "-q", "--job", jobFile, flag, out, in)
		if res.code != exitUsage || !strings.Contains(res.stderr, "would destroy it") || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%s %s: exit %d, stderr %q; want a usage error saying it would destroy it", flag, out, res.code, res.stderr)
		}
		if n := srv.Stats().Requests; n != requests {
			t.Errorf("%s: %d requests were sent by a refused run", flag, n-requests)
		}
		if b, err := os.ReadFile(jobFile); err == nil && !strings.HasPrefix(string(b), "SQLite format 3") {
			t.Errorf("%s: the job file was overwritten: %.40q", flag, b)
		}
	}
}

// The link is found by name before the job file is made: a refused run
// leaves no job file behind.
func TestRefusedOutputThroughALinkedDirMakesNoJob(t *testing.T) {
	dir := t.TempDir()
	in := writeTestFile(t, dir, "in.txt", "http://127.0.0.1:1/x\n")
	d := filepath.Join(dir, "d")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(d, filepath.Join(dir, "L")); err != nil {
		t.Fatal(err)
	}
	res := runIn(t, "", "fetch", "-q", "--job", filepath.Join(d, "new.db"), "-o", filepath.Join(dir, "L", "new.db"), in)
	if res.code != exitUsage {
		t.Fatalf("exit %d, stderr %q; want a usage error", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(d, "new.db")); err == nil {
		t.Errorf("the job file was made by a refused run")
	}
}
