package proc

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// StartError is returned by Start when the process could not be started:
// the program is not found (errors.Is(err, exec.ErrNotFound) for a name
// looked up in PATH, fs.ErrNotExist for a path), is not executable
// (fs.ErrPermission), the directory does not exist, or the context was
// already done.
type StartError struct {
	Args []string
	Err  error
}

func (e *StartError) Error() string {
	return fmt.Sprintf("proc: cannot start %s: %v", name(e.Args), e.Err)
}

func (e *StartError) Unwrap() error { return e.Err }

// ExitError is a process that exited by itself with a non-zero code.
type ExitError struct {
	Args []string
	Code int
	// Stderr is the start of standard error (Cmd.StderrLimit bytes at
	// most), StderrTruncated whether there was more.
	Stderr          []byte
	StderrTruncated bool
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("proc: %s exited with code %d%s", name(e.Args), e.Code, firstLine(e.Stderr))
}

// SignalError is a process ended by a signal that this package did not send
// (a crash, an outside kill, SIGPIPE after a reader stopped reading).
type SignalError struct {
	Args            []string
	Signal          os.Signal
	Stderr          []byte
	StderrTruncated bool
}

func (e *SignalError) Error() string {
	return fmt.Sprintf("proc: %s killed by signal %v%s", name(e.Args), e.Signal, firstLine(e.Stderr))
}

// StoppedError is a process stopped by this package because its context
// was done or its timeout passed. Cause is why (context.Cause): errors.Is
// with context.Canceled or context.DeadlineExceeded works on it.
type StoppedError struct {
	Args  []string
	Cause error
	// Code is the exit code if the process exited by itself on SIGTERM,
	// -1 if a signal ended it.
	Code int
}

func (e *StoppedError) Error() string {
	return fmt.Sprintf("proc: %s stopped: %v", name(e.Args), e.Cause)
}

func (e *StoppedError) Unwrap() error { return e.Cause }

// LineTooLongError is a line of standard output longer than Cmd.MaxLine.
type LineTooLongError struct {
	Line int // its number, from 1
	Max  int // the bound, in bytes
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("proc: line %d of the output is longer than the maximum of %d bytes", e.Line, e.Max)
}

// OutputTooLargeError is standard output longer than Cmd.MaxOutput, in Output.
type OutputTooLargeError struct {
	Args []string
	Max  int
}

func (e *OutputTooLargeError) Error() string {
	return fmt.Sprintf("proc: output of %s is larger than the maximum of %d bytes", name(e.Args), e.Max)
}

func name(args []string) string {
	if len(args) == 0 {
		return "(no program)"
	}
	return fmt.Sprintf("%q", args[0])
}

// firstLine is ": " and the first line of stderr, at most 200 bytes, or "".
func firstLine(stderr []byte) string {
	s := bytes.TrimSpace(stderr)
	if i := bytes.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) == 0 {
		return ""
	}
	if len(s) > 200 {
		s = append(s[:200:200], "…"...)
	}
	return ": " + strings.TrimSpace(string(s))
}
