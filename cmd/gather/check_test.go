package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/flow"
)

// The flows of testdata/flows: valid.yaml has three steps; invalid.yaml
// has four mistakes, whose messages flow.Parse gives as pinned here.
const (
	validFlow   = "testdata/flows/valid.yaml"
	invalidFlow = "testdata/flows/invalid.yaml"
)

const invalidFlowErrors = `gather: testdata/flows/invalid.yaml: invalid flow (4 errors)
testdata/flows/invalid.yaml:6:7: unknown key "methd" in "http" of step "login" (did you mean "method"?)
testdata/flows/invalid.yaml:9:13: step "items" needs "logn", which does not exist (did you mean "login"?)
testdata/flows/invalid.yaml:11:65: bad expression ${{ .input.page + }}: jq: unexpected EOF
testdata/flows/invalid.yaml:12:3: needs cycle: a -> b -> a (each step needs the next)
`

// checkRun runs gather with args and checks its exit code, standard output
// and standard error exactly.
func checkRun(t *testing.T, stdin string, args []string, code int, stdout, stderr string) {
	t.Helper()
	out, res := runInRaw(stdin, args...)
	if res.code != code || string(out) != stdout || res.stderr != stderr {
		t.Errorf("gather %s: exit %d, want %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s\nwant:\n%s",
			strings.Join(args, " "), res.code, code, out, stdout, res.stderr, stderr)
	}
}

func TestCheckValid(t *testing.T) {
	checkRun(t, "", []string{"check", validFlow}, exitOK, "testdata/flows/valid.yaml: ok (3 steps)\n", "")
}

func TestCheckOneStep(t *testing.T) {
	file := filepath.Join(t.TempDir(), "one.yaml")
	os.WriteFile(file, []byte("steps:\n  a: {exec: {command: [true]}}\n"), 0o644)
	checkRun(t, "", []string{"check", file}, exitOK, file+": ok (1 step)\n", "")
}

func TestCheckStdin(t *testing.T) {
	valid, err := os.ReadFile(validFlow)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, string(valid), []string{"check", "-"}, exitOK, "<stdin>: ok (3 steps)\n", "")
	checkRun(t, "steps:\n  a: {exec: {command: [true]}, nedds: [b]}\n", []string{"check", "-"}, exitUsage, "",
		"gather: <stdin>: invalid flow (1 error)\n"+
			`<stdin>:2:32: unknown key "nedds" in step "a" (did you mean "needs"?)`+"\n")
}

// Every error of an invalid flow, sorted, exactly as flow.Errors prints
// them, after a summary line: exit 2 and nothing on standard output.
func TestCheckInvalid(t *testing.T) {
	checkRun(t, "", []string{"check", invalidFlow}, exitUsage, "", invalidFlowErrors)
}

// The errors printed are those of flow.Parse, one per line.
func TestCheckErrorsAreParses(t *testing.T) {
	data, err := os.ReadFile(invalidFlow)
	if err != nil {
		t.Fatal(err)
	}
	_, perr := flow.Parse(invalidFlow, data)
	var errs flow.Errors
	if !errors.As(perr, &errs) || len(errs) != 4 {
		t.Fatalf("flow.Parse: %v, want 4 errors", perr)
	}
	_, res := runInRaw("", "check", invalidFlow)
	_, list, _ := strings.Cut(res.stderr, "\n")
	if list != errs.Error()+"\n" {
		t.Errorf("errors printed:\n%s\nflow.Parse's:\n%s", list, errs.Error())
	}
}

func TestCheckSyntaxError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tabs.yaml")
	os.WriteFile(file, []byte("steps:\n\ta: {}\n"), 0o644)
	_, res := runInRaw("", "check", file)
	if res.code != exitUsage || !strings.HasPrefix(res.stderr, "gather: "+file+": invalid flow (1 error)\n"+file+":2:1: ") {
		t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
}

func TestCheckMissingFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "nope.yaml")
	checkRun(t, "", []string{"check", file}, exitUsage, "", "gather: open "+file+": no such file or directory\n")
}

func TestCheckDirectory(t *testing.T) {
	dir := t.TempDir()
	checkRun(t, "", []string{"check", dir}, exitUsage, "", "gather: reading "+dir+": is a directory\n")
}

func TestCheckArgs(t *testing.T) {
	checkRun(t, "", []string{"check"}, exitUsage, "", "gather: accepts 1 arg(s), received 0\n")
	checkRun(t, "", []string{"check", validFlow, validFlow}, exitUsage, "", "gather: accepts 1 arg(s), received 2\n")
}

// A flow of exactly maxFlowSize bytes is read; one byte more is refused
// before parsing.
func TestCheckTooLarge(t *testing.T) {
	valid, err := os.ReadFile(validFlow)
	if err != nil {
		t.Fatal(err)
	}
	pad := maxFlowSize - len(valid) - 2
	exact := string(valid) + "#" + strings.Repeat("x", pad) + "\n"
	if len(exact) != maxFlowSize {
		t.Fatalf("%d bytes", len(exact))
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "exact.yaml")
	os.WriteFile(file, []byte(exact), 0o644)
	checkRun(t, "", []string{"check", file}, exitOK, file+": ok (3 steps)\n", "")

	file = filepath.Join(dir, "big.yaml")
	os.WriteFile(file, []byte(exact+"\n"), 0o644)
	checkRun(t, "", []string{"check", file}, exitUsage, "",
		"gather: "+file+": larger than 1048576 bytes (1 MiB), the limit of a flow file: not a flow?\n")
	checkRun(t, exact+"\n", []string{"check", "-"}, exitUsage, "",
		"gather: <stdin>: larger than 1048576 bytes (1 MiB), the limit of a flow file: not a flow?\n")
}

// endless is a stream of bytes that never ends, counting what was read.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '#'
	}
	e.n += len(p)
	return len(p), nil
}

// A huge input is not read whole: readFlow stops one byte past the limit.
func TestCheckReadsAtMostLimit(t *testing.T) {
	in := &endless{}
	old := stdio
	stdio.in = in
	defer func() { stdio = old }()
	_, err := readFlow("-")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("%v, want a usage error: larger than the limit", err)
	}
	if in.n > maxFlowSize+1 {
		t.Errorf("read %d bytes, want at most %d", in.n, maxFlowSize+1)
	}
}

// readFlow's error for an invalid flow is a usage error whose error
// unwraps to flow.Errors, for gather run and tests to inspect. (exitError
// has no Unwrap: its err is reached through the field.)
func TestCheckReadFlowError(t *testing.T) {
	_, err := readFlow(invalidFlow)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage {
		t.Fatalf("%v, want a usage error", err)
	}
	var errs flow.Errors
	if !errors.As(ee.err, &errs) || len(errs) != 4 || errs[0].Line != 6 {
		t.Errorf("flow.Errors: %v", errs)
	}
	f, err := readFlow(validFlow)
	if err != nil || len(f.Steps) != 3 || f.File != validFlow {
		t.Errorf("%v, %v", f, err)
	}
}

func TestCheckHelp(t *testing.T) {
	out, res := runInRaw("", "check", "--help")
	if res.code != exitOK || !strings.Contains(string(out), "Usage:\n  gather check FLOW.yaml|- [flags]") {
		t.Errorf("exit %d:\n%s%s", res.code, out, res.stderr)
	}
}
