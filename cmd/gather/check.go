package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check FLOW.yaml|-",
		Short: "Check a flow file without running it",
		Long: `Check parses and validates a flow file, and runs nothing: every key, type,
duration and expression is checked, every step that is needed must exist,
and the needs must not form a cycle. - reads the flow from standard input
(named <stdin> in errors). A flow file is at most 1 MiB.

A valid flow prints one line on standard output and exits 0:

  flow.yaml: ok (3 steps)

An invalid flow prints a summary line and then every error, one per line as
FILE:LINE:COL: MESSAGE, on standard error, and exits 2 (as does a file that
cannot be read):

  gather: flow.yaml: invalid flow (2 errors)
  flow.yaml:6:7: unknown key "methd" in "http" of step "login" (did you mean "method"?)
  flow.yaml:12:3: needs cycle: a -> b -> a (each step needs the next)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(args[0])
		},
	}
}

// runCheck reads and validates the flow at path (readFlow) and says so.
func runCheck(path string) error {
	f, err := readFlow(path)
	if err != nil {
		return err
	}
	steps := "1 step"
	if len(f.Steps) != 1 {
		steps = fmt.Sprintf("%d steps", len(f.Steps))
	}
	if _, err := fmt.Fprintf(stdio.out, "%s: ok (%s)\n", f.File, steps); err != nil {
		return writeError("check", err)
	}
	return nil
}

// writeError is the error of a command that could not write its output:
// exit 3, and the message of gather export for a closed output.
func writeError(what string, err error) error {
	if isClosedOutput(err) {
		return errOutputClosed(what)
	}
	return &exitError{exitRuntime, fmt.Errorf("writing: %w", err)}
}
