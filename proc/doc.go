// Package proc runs subprocesses the way asyncio's create_subprocess_exec
// does, with what os/exec leaves to its caller: a process and its children
// stopped together, output streamed line by line with a bound, standard
// error kept for error messages, typed errors, and nothing left running.
//
//	p, err := proc.Start(ctx, proc.Cmd{Args: []string{"sort"}, Stdin: r, Timeout: time.Minute})
//	if err != nil { ... } // *StartError: not found, not executable
//	for line, err := range p.Lines() { ... }
//	code, err := p.Wait(ctx) // *ExitError, *SignalError, *StoppedError
//
// Output is the one-call form: it returns standard output, bounded.
//
// # No shell
//
// Cmd.Args is the program and its arguments, passed as they are: no shell
// parses them, so nothing in them needs quoting. Run "sh", "-c", script for
// a shell on purpose.
//
// # Process groups
//
// On Unix the process is started in a process group of its own
// (Setpgid), and every signal goes to the whole group. A shell script's
// "sleep 100 &", a make's compilers, a pipeline's stages: killing the
// process that Start started would leave them running, holding its pipes
// open, so that nothing reading its output would ever see the end of it.
// The group is also why Ctrl-C in a terminal no longer reaches the process
// by itself: the terminal signals its foreground group only. It reaches it
// through the context instead: cancel the context on SIGINT
// (signal.NotifyContext).
//
// A child that leaves the group (setsid, a daemon) is out of reach; Wait
// then closes the pipes it holds after the grace, and returns.
//
// # Stopping: SIGTERM, then SIGKILL
//
// When Start's context is done, Cmd.Timeout has passed or Wait's context is
// done, the group gets SIGTERM, so that the process can clean up (remove a
// temporary file, flush what it has), then SIGKILL if the process is still
// there after Cmd.Grace (DefaultGrace, 2 s). Wait returns a *StoppedError
// whose Cause is the context's (errors.Is(err, context.DeadlineExceeded)
// after a timeout), and returns within about the grace.
//
// When the process ends by itself, whatever it left behind in its group is
// killed (SIGKILL) at once: no process of the group outlives Wait.
//
// On Windows (and every system without process groups) the process is
// killed at once (TerminateProcess), without a grace, and its children are
// not: a known limit.
//
// # Bounds
//
// A process may write any amount; reading it costs the size of a line, not
// of the output:
//
//   - Lines yields lines of at most Cmd.MaxLine bytes (DefaultMaxLine,
//     1 MiB); a longer one is a *LineTooLongError naming the bound, not a
//     line held in memory.
//   - Standard error is always read (a process blocked on a full stderr
//     pipe would hang), and its first Cmd.StderrLimit bytes
//     (DefaultStderrLimit, 64 KiB) are kept: ExitError and SignalError
//     carry them, and their message shows its first line.
//   - Output keeps at most Cmd.MaxOutput bytes (DefaultMaxOutput, 64 MiB)
//     and stops the process beyond.
//
// # Standard input
//
// Cmd.Stdin is copied to the process by a goroutine of its own, so a
// process that answers as it reads never waits for the caller. With
// Cmd.StdinPipe the caller writes Process.Stdin itself, from a goroutine
// other than the one reading the output, and closes it.
//
// # Guarantees
//
//   - Start either returns a running Process or a *StartError and nothing
//     running.
//   - Wait returns once the process and its group have ended, within about
//     Cmd.Grace after a done context; no goroutine of the Process is left
//     then, but the one copying a Cmd.Stdin whose Read never returns (it
//     ends when that Read does).
//   - Breaking out of Lines closes standard output: a process still
//     writing gets SIGPIPE, as with "| head".
//   - Wait reads and drops the output nobody read, so a process is never
//     stuck on a full pipe because its caller only wanted its exit code.
//   - After a stop, a caller still in Lines or reading Stdout sees the end
//     of the output within about twice Cmd.Grace, even if a process that
//     left the group holds the pipe.
//   - Wait must be called once for every Process that Start returned: it is
//     what reaps the process and joins the goroutines.
package proc
