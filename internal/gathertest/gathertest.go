// Package gathertest runs the tests of a package that needs the gather
// command built: the command line's own tests, and the examples, which
// run as a user runs them.
package gathertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// Main is a TestMain: it builds the gather command from the package
// directory cmd (relative to the test's package, as go build takes it)
// into a temporary directory, sets *binary to its path, runs the tests,
// removes the directory, and fails a passing run that leaves goroutines
// behind (goleak). It does not return.
func Main(m *testing.M, cmd string, binary *string) {
	dir, err := os.MkdirTemp("", "gather-test")
	if err != nil {
		panic(err)
	}
	*binary = filepath.Join(dir, "gather")
	if out, err := exec.Command("go", "build", "-o", *binary, cmd).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building gather: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}
