package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range ents {
		ns = append(ns, e.Name())
	}
	return ns
}

// Through a symbolic link, the file it points to is written and the link
// stays a link.
func TestWriteThroughALinkWritesItsTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.html")
	if err := os.WriteFile(target, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.html")
	if err := os.Symlink("real.html", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, writeString("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link is no longer a link: %v %v", fi.Mode(), err)
	}
	fi, err := os.Stat(target)
	if b, _ := os.ReadFile(target); string(b) != "new" || err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("the target holds %q, mode %v; want \"new\", 0640", b, fi.Mode().Perm())
	}
	if ns := names(t, dir); !slices.Equal(ns, []string{"link.html", "real.html"}) {
		t.Fatalf("the directory holds %q", ns)
	}
}

// A temporary file left by a killed write of the same file is removed;
// one of another file is not, even when the names hold the characters of
// a glob pattern.
func TestWriteRemovesOnlyItsOwnStaleTemporaries(t *testing.T) {
	for _, base := range []string{"out.jsonl", "out[1].jsonl", "a*b?.csv", "x"} {
		dir := t.TempDir()
		mine := filepath.Join(dir, "."+base+".gather-123456.tmp")
		others := []string{
			"." + "out1.jsonl" + ".gather-77.tmp",     // what out[1].jsonl matches as a pattern
			"." + base + "x.gather-5.tmp",             // another file whose name starts with base
			"." + base + ".gather-5.tmp.gather-6.tmp", // the temporary of a file named like a temporary
			"." + base + ".gather-.tmp",
			"other",
		}
		for _, p := range append(others, filepath.Base(mine)) {
			if err := os.WriteFile(filepath.Join(dir, p), []byte("left"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join(dir, base)
		if err := Write(path, writeString("whole")); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if b, _ := os.ReadFile(path); string(b) != "whole" {
			t.Errorf("%s holds %q", base, b)
		}
		if _, err := os.Stat(mine); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the stale temporary file is still there (%v)", base, err)
		}
		want := append(slices.Clone(others), base)
		slices.Sort(want)
		if ns := names(t, dir); !slices.Equal(ns, want) {
			t.Errorf("%s: the directory holds %q, want %q", base, ns, want)
		}
	}
}

// A write that fails leaves the earlier file as it was and no temporary
// file, and the error names the file, not the temporary.
func TestWriteThatFailsLeavesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	if err := os.WriteFile(path, []byte("earlier"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "earlier" {
		t.Errorf("the file holds %q", b)
	}
	if ns := names(t, dir); !slices.Equal(ns, []string{"r.json"}) {
		t.Errorf("the directory holds %q", ns)
	}
	err = Write(filepath.Join(dir, "no", "such"), writeString("x"))
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Path != filepath.Join(dir, "no", "such") {
		t.Errorf("error %v, want one naming the file", err)
	}
}

// A path that is not a regular file (a FIFO, /dev/stdout) is written in
// place.
func TestWriteToANonRegularFileWritesInPlace(t *testing.T) {
	if err := Write(os.DevNull, writeString("x")); err != nil {
		t.Fatal(err)
	}
}
