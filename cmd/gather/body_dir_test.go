package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/lockfile"
	"github.com/gogather/gather/run"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// A run with --body dir: (a resumed job, or a run without a job) removes
// the .part files a killed run left in the directory (and nothing else),
// then writes every body whole.
func TestBodyDirRunRemovesPartFiles(t *testing.T) {
	for _, withJob := range []bool{true, false} {
		t.Run(map[bool]string{true: "job", false: "no job"}[withJob], func(t *testing.T) { bodyDirRemovesPartFiles(t, withJob) })
	}
}

func bodyDirRemovesPartFiles(t *testing.T, withJob bool) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	bodies := filepath.Join(dir, "bodies")
	if err := os.Mkdir(bodies, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".part-123456", ".part-42", "notes.txt", ".part-x"} {
		writeTestFile(t, bodies, name, "left over")
	}
	file := writeTestFile(t, dir, "urls.txt", srv.URL()+"/a\n"+srv.URL()+"/b\n")
	args := []string{"fetch", file, "--body", "dir:" + bodies, "-q", "-o", filepath.Join(dir, "out.jsonl")}
	if withJob {
		args = append(args, "--job", filepath.Join(dir, "j.gather"))
	}
	res := gather(t, "", args...)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	entries, err := os.ReadDir(bodies)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Name()] = true
	}
	if got[".part-123456"] || got[".part-42"] {
		t.Errorf("part files left: %v", got)
	}
	if !got["notes.txt"] || !got[".part-x"] || !got["1.body"] || !got["2.body"] {
		t.Errorf("want notes.txt, .part-x and the two bodies kept: %v", got)
	}
}

// A body directory is one run's at a time: bodies are named by input
// line, so a second run writing there is refused before any request.
func TestBodyDirHeldByAnotherRunIsRefused(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	bodies := filepath.Join(dir, "bodies")
	os.Mkdir(bodies, 0o755)
	lf, err := os.OpenFile(filepath.Join(bodies, run.BodyDirLock), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := lockfile.TryLock(lf); err != nil {
		t.Fatal(err)
	}
	file := writeTestFile(t, dir, "urls.txt", srv.URL()+"/a\n")
	res := gather(t, "", "fetch", file, "--body", "dir:"+bodies, "-q")
	if res.code != exitUsage || !strings.Contains(res.stderr, "another gather run") || srv.Stats().Requests != 0 {
		t.Fatalf("exit %d, %d requests: %s", res.code, srv.Stats().Requests, res.stderr)
	}
}

// A body directory where the input or the job has a body's name (LINE.body)
// is refused before anything is written: the run would overwrite it.
func TestBodyDirRefusesToOverwriteTheInputOrTheJob(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	bodies := filepath.Join(dir, "bodies")
	os.Mkdir(bodies, 0o755)
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/d/", 2, ""))
	asInput := writeTestFile(t, bodies, "1.body", urlLines(srv, "/d/", 2, ""))
	for _, args := range [][]string{
		{"fetch", "-q", "--body", "dir:" + bodies, "--job", filepath.Join(bodies, "1.body"), urls},
		{"fetch", "-q", "--body", "dir:" + bodies, asInput},
	} {
		before, _ := os.ReadFile(asInput)
		res := gather(t, "", args...)
		after, _ := os.ReadFile(asInput)
		if res.code != exitUsage || !strings.Contains(res.stderr, "would overwrite") || string(before) != string(after) {
			t.Errorf("%v: exit %d, %q; file changed: %v", args, res.code, res.stderr, string(before) != string(after))
		}
	}
}
