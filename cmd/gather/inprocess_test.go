package main

import (
	"bytes"
	"strings"
	"testing"
)

// runIn runs the command in this process, as execute(args) does for main,
// with stdin as standard input, and returns the records written to
// standard output, what went to standard error and the exit code.
func runIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	out, res := runInRaw(stdin, args...)
	res.records = parseRecords(t, out)
	return res
}

// runInRaw runs the command in this process and returns its standard
// output as it is.
func runInRaw(stdin string, args ...string) ([]byte, result) {
	var out, errb bytes.Buffer
	old := stdio
	stdio.in, stdio.out, stdio.err = strings.NewReader(stdin), &out, &errb
	defer func() { stdio = old }()
	code := execute(args)
	return out.Bytes(), result{stderr: errb.String(), code: code}
}
