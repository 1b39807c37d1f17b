//go:build unix

package output

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// appendChildEnv names the file the child of
// TestFullDiskKeepsWhatAnAppendedFileHeld appends to.
const appendChildEnv = "GATHER_OUTPUT_APPEND_CHILD"

// A file opened for appending (gather fetch >> out.jsonl) that fills up
// (here: a file size limit) keeps everything it held before the run, and
// ends on a whole record: the cut never goes below where the file was.
func TestFullDiskKeepsWhatAnAppendedFileHeld(t *testing.T) {
	if path := os.Getenv(appendChildEnv); path != "" {
		appendUntilFull(path)
		return
	}
	path := filepath.Join(t.TempDir(), "out.jsonl")
	var old bytes.Buffer
	for i := 0; old.Len() < 150_000; i++ {
		fmt.Fprintf(&old, "{\"earlier\":%d,\"pad\":%q}\n", i, strings.Repeat("x", 80))
	}
	if err := os.WriteFile(path, old.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFullDiskKeepsWhatAnAppendedFileHeld$")
	cmd.Env = append(os.Environ(), appendChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(path)
	if !bytes.HasPrefix(b, old.Bytes()) {
		t.Fatalf("the file holds %d bytes, not the %d it held before the run (child: %s)", len(b), old.Len(), out)
	}
	if len(b) == old.Len() || !bytes.HasSuffix(b, []byte("\n")) {
		t.Fatalf("%d bytes after %d: want whole records added (child: %s)", len(b), old.Len(), out)
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(b[old.Len():]), "\n"), "\n") {
		if !strings.HasPrefix(l, `{"line":`) || !strings.HasSuffix(l, "}") {
			t.Fatalf("a cut record %q (child: %s)", l, out)
		}
	}
}

// appendUntilFull runs in the child: a file size limit of 200,000 bytes,
// the file opened for appending, records written until a write fails.
func appendUntilFull(path string) {
	lim := syscall.Rlimit{Cur: 200_000, Max: 200_000}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		os.Exit(1)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	w := JSONL(f)
	var werr error
	for i := 1; i <= 10000 && werr == nil; i++ {
		r := sample
		r.Line = i
		werr = w.Write(r)
	}
	if werr == nil {
		werr = w.Flush()
	}
	var we *WriteError
	if !errors.As(werr, &we) {
		fmt.Println("want a WriteError, got", werr)
		os.Exit(1)
	}
	fmt.Println(werr)
	f.Close()
}
