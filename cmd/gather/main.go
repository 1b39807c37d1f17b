// Command gather runs huge numbers of HTTP requests concurrently, politely
// and with every result accounted for.
//
//	gather demo                       # a 10,000-request run against a bundled local server
//	gather fetch urls.txt > out.jsonl # one JSON record per input line
//	gather upstream --addr 127.0.0.1:8080 --latency 50ms
//
// Exit codes: 0 every input succeeded; 1 some inputs failed (their records
// say why); 2 usage error (bad flag, missing file); 3 the run could not
// continue (output not writable, for example); 130 interrupted (Ctrl-C,
// SIGTERM): every record already written is complete.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK          = 0
	exitSomeFailed  = 1
	exitUsage       = 2
	exitRuntime     = 3
	exitInterrupted = 130
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func usageError(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, args...)}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// gcPercent is the garbage collector's target when GOGC is not set: gather
// fetch's live heap is small and bounded by the concurrency, so letting it
// grow to 3x rather than 2x before a collection costs a few MB and saves
// about 5% of the CPU per request (bench/fetch, scenario 1).
const gcPercent = 200

func run(args []string) int {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	root := &cobra.Command{
		Use:           "gather",
		Short:         "Run huge numbers of HTTP requests concurrently, and get every result back",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{exitUsage, fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(newFetchCommand(), newDemoCommand(), newUpstreamCommand(), newExportCommand(), newReportCommand())
	// --cpuprofile is for gather's developers (bench/fetch): hidden.
	var cpuProfile string
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return usageError("--cpuprofile: %v", err)
		}
		return pprof.StartCPUProfile(f)
	}
	root.SetArgs(args)
	err := root.Execute()
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "gather:", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors (unknown command, bad arguments) are usage errors.
	fmt.Fprintln(os.Stderr, "gather:", err)
	return exitUsage
}
