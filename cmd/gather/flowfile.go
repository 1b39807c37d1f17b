package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gogather/gather/flow"
)

// maxFlowSize is the largest flow file gather reads: 1 MiB. A flow file is
// written by hand, a few hundred lines at most; anything larger is the
// wrong file (a data file, a log), refused after reading at most one byte
// more than the limit, never loaded whole.
const maxFlowSize = 1 << 20

// stdinFlowName is the name of a flow read from standard input (-) in
// errors and summaries.
const stdinFlowName = "<stdin>"

// errInvalidFlow is the error of readFlow for a flow that does not parse
// or validate. Its text is a summary line and then every error exactly as
// flow.Errors prints them, FILE:LINE:COL: MESSAGE one per line; execute
// prefixes the summary alone with "gather: ":
//
//	gather: bad.yaml: invalid flow (2 errors)
//	bad.yaml:3:5: unknown key "neeeds" in step "a" (did you mean "needs"?)
//	bad.yaml:4:38: bad expression ${{ .id | }}: jq: unexpected EOF
type errInvalidFlow struct {
	name string
	errs flow.Errors
	what string // "flow" when empty, or "gateway"
}

func (e *errInvalidFlow) Error() string {
	n := "1 error"
	if len(e.errs) != 1 {
		n = fmt.Sprintf("%d errors", len(e.errs))
	}
	what := e.what
	if what == "" {
		what = "flow"
	}
	return fmt.Sprintf("%s: invalid %s (%s)\n%s", e.name, what, n, e.errs.Error())
}

func (e *errInvalidFlow) Unwrap() error { return e.errs }

// readFlow reads and parses the flow file at path, or standard input when
// path is "-" (named <stdin> in errors). Every failure is a usage error
// (exit 2): a file that cannot be read or is larger than maxFlowSize, or a
// flow that is not valid (an *errInvalidFlow listing all its errors).
// gather check, gather graph (and gather run) read their flow through it.
func readFlow(path string) (*flow.Flow, error) {
	f, _, err := readFlowFile(path)
	return f, err
}

// readFlowFile is readFlow, returning the file's bytes too.
func readFlowFile(path string) (*flow.Flow, []byte, error) {
	name := path
	var r io.Reader
	if path == "-" {
		name, r = stdinFlowName, stdio.in
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, usageError("%v", err) // "open PATH: ..." names the file
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxFlowSize+1))
	if err != nil {
		return nil, nil, usageError("reading %s: %v", name, unwrapPath(err))
	}
	if len(data) > maxFlowSize {
		return nil, nil, usageError("%s: larger than %d bytes (1 MiB), the limit of a flow file: not a flow?", name, maxFlowSize)
	}
	fl, err := flow.Parse(name, data)
	if err != nil {
		var errs flow.Errors
		if !errors.As(err, &errs) {
			return nil, nil, usageError("%s: %v", name, err)
		}
		return nil, nil, &exitError{exitUsage, &errInvalidFlow{name: name, errs: errs}}
	}
	return fl, data, nil
}

// unwrapPath drops an *os.PathError's operation and path ("read x.yaml:
// is a directory" becomes "is a directory"), which the message names
// already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
