package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// runInFile runs the command in this process with the file at path as
// its standard input, as gather fetch - < path does.
func runInFile(t *testing.T, path string, args ...string) result {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out, errb bytes.Buffer
	old := stdio
	stdio.in, stdio.out, stdio.err = in, &out, &errb
	defer func() { stdio = old }()
	code := execute(args)
	return result{stderr: errb.String(), code: code, records: parseRecords(t, out.Bytes())}
}

// An input read from standard input that is a regular file is protected
// from -o and --stats as a named input is: exit 2, the file untouched.
func TestStdinFileProtectedFromOutputs(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	st := filepath.Join(dir, "st.txt")
	content := srv.URL() + "/a\n" + srv.URL() + "/b\n"
	link := filepath.Join(dir, "link.txt")
	os.Symlink(st, link)
	for _, args := range [][]string{
		{"fetch", "-", "-q", "-o", st},
		{"fetch", "-q", "-o", st}, // no argument: standard input too
		{"fetch", "-", "-q", "-o", link},
		{"fetch", "-", "-q", "--stats", st},
		{"fetch", "-", "-q", "--job", filepath.Join(dir, "j.db"), "-o", st},
		{"fetch", "-", "-q", "--job", filepath.Join(dir, "j2.db"), "--stats", st},
	} {
		os.WriteFile(st, []byte(content), 0o644)
		res := runInFile(t, st, args...)
		if res.code != exitUsage || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, "standard input") {
			t.Errorf("%v < st.txt: exit %d, stderr %q; want exit 2 and one line naming standard input", args, res.code, res.stderr)
		}
		if b, _ := os.ReadFile(st); string(b) != content {
			t.Errorf("%v < st.txt: st.txt is now %q", args, b)
		}
	}
	// Another file as -o is fine.
	os.WriteFile(st, []byte(content), 0o644)
	if res := runInFile(t, st, "fetch", "-", "-q", "-o", filepath.Join(dir, "out.jsonl")); res.code != 0 {
		t.Errorf("-o another file: exit %d, stderr %q", res.code, res.stderr)
	}
}

// -o /dev/stdin names the process's own standard input: the built binary.
func TestStdinFileProtectedFromDevStdin(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	st := filepath.Join(t.TempDir(), "st.txt")
	content := srv.URL() + "/a\n"
	for _, args := range [][]string{
		{"fetch", "-", "-q", "-o", "/dev/stdin"},
		{"fetch", "-", "-q", "--stats", "/dev/stdin"},
	} {
		os.WriteFile(st, []byte(content), 0o644)
		in, err := os.Open(st)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(binary, args...)
		var stderr bytes.Buffer
		cmd.Stdin, cmd.Stderr = in, &stderr
		err = cmd.Run()
		in.Close()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(stderr.String(), "standard input") {
			t.Errorf("%v < st.txt: %v, stderr %q; want exit 2 naming standard input", args, err, stderr.String())
		}
		if b, _ := os.ReadFile(st); string(b) != content {
			t.Errorf("%v < st.txt: st.txt is now %q", args, b)
		}
	}
}
