package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gogather/gather/internal/upstream"
)

// A job resumed with --body dir: removes the .part files a killed run left
// in the directory (and nothing else), then writes every body whole.
func TestJobResumeRemovesPartFiles(t *testing.T) {
	srv := startUpstream(t, upstream.Config{})
	dir := t.TempDir()
	bodies := filepath.Join(dir, "bodies")
	if err := os.Mkdir(bodies, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".part-123456", ".part-42", "notes.txt", ".part-x"} {
		writeTestFile(t, bodies, name, "left over")
	}
	file := writeTestFile(t, dir, "urls.txt", srv.URL()+"/a\n"+srv.URL()+"/b\n")
	res := gather(t, "", "fetch", file, "--job", filepath.Join(dir, "j.gather"), "--body", "dir:"+bodies, "-q")
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
