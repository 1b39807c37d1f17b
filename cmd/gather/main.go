// Command gather runs huge numbers of HTTP requests concurrently, politely
// and with every result accounted for.
//
//	gather demo                       # a 10,000-request run against a bundled local server
//	gather fetch urls.txt > out.jsonl # one JSON record per input line
//	gather upstream --addr 127.0.0.1:8080 --latency 50ms
//	gather run flow.yaml --input users.jsonl   # a flow of steps, once per record
//	gather check flow.yaml            # validate a flow file without running it
//	gather graph flow.yaml            # its graph of steps: Mermaid, or Graphviz with --format dot
//
// Exit codes: 0 every input succeeded; 1 some inputs failed (their records
// say why); 2 usage error (bad flag, missing file); 3 the run could not
// continue (output not writable or closed, for example); 130 interrupted
// (Ctrl-C, SIGTERM): every record already written is complete.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/gogather/gather/internal/samefile"
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

// stdio is where the commands read and write: the process's standard
// streams, replaced by the in-process tests.
var stdio = struct {
	in       io.Reader
	out, err io.Writer
}{os.Stdin, os.Stdout, os.Stderr}

func main() {
	os.Exit(execute(os.Args[1:]))
}

// gcPercent is the garbage collector's target when GOGC is not set: gather
// fetch's live heap is small and bounded by the concurrency, so letting it
// grow to 3x rather than 2x before a collection costs a few MB and saves
// about 5% of the CPU per request (bench/fetch, scenario 1).
const gcPercent = 200

// sigpipe receives SIGPIPE, so that a write to a closed pipe returns EPIPE
// (a closed output, which stops the run like Ctrl-C) instead of killing
// the process silently; nothing reads it.
var sigpipe = make(chan os.Signal, 1)

func execute(args []string) int {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	signal.Notify(sigpipe, syscall.SIGPIPE)
	root := &cobra.Command{
		Use:           "gather",
		Short:         "Run huge numbers of HTTP requests concurrently, and get every result back",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdio.out)
	root.SetErr(stdio.err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{exitUsage, fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(newFetchCommand(), newDemoCommand(), newUpstreamCommand(), newExportCommand(), newReportCommand(), newVersionCommand())
	root.AddCommand(newRunCommand(), newCheckCommand(), newGraphCommand(), newServeCommand())
	root.AddCommand(newNATSCommand(), newWorkerCommand())
	// --cpuprofile is for gather's developers (bench/fetch): hidden.
	var cpuProfile string
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().MarkHidden("cpuprofile")
	var profile *os.File
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if cpuProfile == "" {
			return nil
		}
		if err := samefile.Check([]samefile.Named{{Name: "--cpuprofile", Path: cpuProfile}}, readFiles(cmd, args)); err != nil {
			return usageError("%v", err)
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return usageError("--cpuprofile: %v", err)
		}
		profile = f
		return pprof.StartCPUProfile(f)
	}
	root.SetArgs(args)
	err := root.Execute()
	if profile != nil {
		pprof.StopCPUProfile()
		profile.Close()
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stdio.err, "gather:", ee.err)
		}
		return ee.code
	}
	// Cobra's own errors (unknown command, bad arguments) are usage errors.
	fmt.Fprintln(stdio.err, "gather:", err)
	return exitUsage
}

// readFiles lists the files a command reads, which no output may be: its
// arguments (the input, a job file), and the files of --job (with SQLite's
// files beside it), --data and --json @FILE and --cacert.
func readFiles(cmd *cobra.Command, args []string) []samefile.Named {
	var files []samefile.Named
	for _, a := range args {
		if a != "-" {
			files = append(files, samefile.Named{Name: "the input", Path: a})
		}
	}
	if cmd.Name() == "fetch" && (len(args) == 0 || args[0] == "-") {
		if in, ok := stdinFile(); ok {
			files = append(files, in)
		}
	}
	if fl := cmd.Flags().Lookup("job"); fl != nil && fl.Value.String() != "" {
		for _, suffix := range []string{"", "-wal", "-journal", "-shm"} {
			files = append(files, samefile.Named{Name: "the job file", Path: fl.Value.String() + suffix})
		}
	}
	for _, name := range []string{"data", "json"} {
		if fl := cmd.Flags().Lookup(name); fl != nil && strings.HasPrefix(fl.Value.String(), "@") {
			files = append(files, samefile.Named{Name: "--" + name, Path: fl.Value.String()[1:]})
		}
	}
	if fl := cmd.Flags().Lookup("cacert"); fl != nil && fl.Value.String() != "" {
		files = append(files, samefile.Named{Name: "--cacert", Path: fl.Value.String()})
	}
	return files
}

// stdinFile returns standard input as an input of the run when it is a
// regular file (gather fetch - < in.txt), which no output may then be; a
// pipe or a terminal is nothing an output could overwrite.
func stdinFile() (samefile.Named, bool) {
	f, ok := stdio.in.(*os.File)
	if !ok {
		return samefile.Named{}, false
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return samefile.Named{}, false
	}
	return samefile.Named{Name: "standard input (the input)", Info: fi}, true
}

// version is gather's version: the module's (a tag when installed with go
// install module@version, "(devel)" when built from a clone) and the VCS
// revision the binary was built from, when the build recorded it.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "gather (no build information)"
	}
	return formatVersion(bi)
}

// formatVersion says what a build of gather is. (Go records the VCS
// revision when it builds in a clone, not with -buildvcs=false nor, as of
// Go 1.26, in a git worktree.)
func formatVersion(bi *debug.BuildInfo) string {
	v := "gather " + bi.Main.Version
	var rev, when, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev != "" {
		v += fmt.Sprintf(" (revision %s%s", rev, modified)
		if when != "" {
			v += ", " + when
		}
		v += ")"
	} else {
		v += " (no VCS revision recorded)"
	}
	return v + ", " + bi.GoVersion
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print gather's version and the revision it was built from",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(stdio.out, version())
			return err
		},
	}
}
