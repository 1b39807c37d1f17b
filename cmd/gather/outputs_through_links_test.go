package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// report --html and --json, export -o and fetch --job -o given a symbolic
// link write the file it points to: the link stays a link.
func TestOutputsThroughALinkWriteItsTarget(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	in := writeTestFile(t, dir, "in.txt", urlLines(srv, "/s/", 2, ""))
	jobFile := filepath.Join(dir, "j.db")
	link := func(name string) (string, string) {
		target := filepath.Join(dir, "real-"+name)
		if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		l := filepath.Join(dir, name)
		if err := os.Symlink(target, l); err != nil {
			t.Fatal(err)
		}
		return l, target
	}
	out, outTarget := link("out.jsonl")
	if res := runIn(t, "", "fetch", "-q", "--job", jobFile, "-o", out, in); res.code != exitOK {
		t.Fatalf("fetch: exit %d: %s", res.code, res.stderr)
	}
	html, htmlTarget := link("r.html")
	js, jsTarget := link("r.json")
	if _, res := runInRaw("", "report", jobFile, "--html", html, "--json", js); res.code != exitOK {
		t.Fatalf("report: exit %d: %s", res.code, res.stderr)
	}
	exp, expTarget := link("e.jsonl")
	if _, res := runInRaw("", "export", jobFile, "-o", exp); res.code != exitOK {
		t.Fatalf("export: exit %d: %s", res.code, res.stderr)
	}
	for l, target := range map[string]string{out: outTarget, html: htmlTarget, js: jsTarget, exp: expTarget} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link", filepath.Base(l))
		}
		if b, _ := os.ReadFile(target); len(b) < 10 || strings.HasPrefix(string(b), "old") {
			t.Errorf("%s holds %q", filepath.Base(target), b)
		}
	}
}
