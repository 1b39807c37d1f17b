package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Defaults for the zero values of Cmd's bounds.
const (
	// DefaultGrace is the time between SIGTERM and SIGKILL.
	DefaultGrace = 2 * time.Second
	// DefaultMaxLine is the longest line Lines yields, in bytes, without
	// its end of line.
	DefaultMaxLine = 1 << 20
	// DefaultStderrLimit is how many bytes of standard error are kept:
	// the first ones.
	DefaultStderrLimit = 64 << 10
	// DefaultMaxOutput is how many bytes of standard output Output keeps.
	DefaultMaxOutput = 64 << 20
)

// Cmd describes a process to start. Only Args is required.
type Cmd struct {
	// Args is the program and its arguments; no shell is involved. A
	// program without a slash is looked up in PATH.
	Args []string
	// Env is the environment, as "KEY=value" strings. Nil inherits this
	// process's environment; a non-nil Env is the whole environment (to
	// add to the inherited one, append to os.Environ()).
	Env []string
	// Dir is the working directory; empty is this process's.
	Dir string

	// Stdin, when not nil, is copied to the process's standard input,
	// which is then closed. An *os.File is handed to the process as is.
	Stdin io.Reader
	// StdinPipe, instead, makes standard input a pipe that the caller
	// writes through Process.Stdin and must close. With neither,
	// standard input is empty (the null device).
	StdinPipe bool

	// Timeout, when positive, bounds the process's life from Start: it
	// is then stopped as on a cancelled context.
	Timeout time.Duration
	// Grace is the time between SIGTERM and SIGKILL when the process is
	// stopped, and how long Wait waits for the pipes to close after the
	// process has ended. Zero is DefaultGrace.
	Grace time.Duration
	// MaxLine bounds the lines of Lines, in bytes. Zero is DefaultMaxLine.
	MaxLine int
	// StderrLimit is how many bytes of standard error are kept (the
	// first ones; the rest is read and dropped). Zero is
	// DefaultStderrLimit; negative keeps none.
	StderrLimit int
	// MaxOutput bounds what Output reads. Zero is DefaultMaxOutput.
	MaxOutput int
}

// A Process is a started process. Read its output through Lines or Stdout,
// then call Wait, which must be called once for every started Process.
type Process struct {
	cmd    *exec.Cmd
	args   []string
	grace  time.Duration
	maxLn  int
	cancel context.CancelCauseFunc
	ctx    context.Context

	stdout     *os.File // the read end of standard output
	stdoutOnce sync.Once
	stdin      *os.File // the write end of standard input, if a pipe
	stdinOnce  sync.Once
	stderrR    *os.File
	stderr     *capture

	exited   chan struct{} // closed once the process has been reaped
	waited   chan struct{} // closed once Wait has closed standard output
	stopped  bool          // the process was signalled because ctx ended; under mu
	cause    error         // why; under mu
	mu       sync.Mutex
	stdinErr chan struct{} // closed when the copy of Cmd.Stdin ends, if any
	wg       sync.WaitGroup

	waitOnce sync.Once
	code     int
	err      error
}

// Start starts the process. It returns a *StartError if the program cannot
// be started (not found, not executable, no such directory).
//
// The process runs in a process group of its own (on Unix). When ctx is done
// or Cmd.Timeout has passed, the whole group is sent SIGTERM and, if the
// process is still there after Cmd.Grace, SIGKILL.
func Start(ctx context.Context, c Cmd) (*Process, error) {
	if len(c.Args) == 0 {
		return nil, &StartError{Err: errors.New("no program given")}
	}
	if c.Stdin != nil && c.StdinPipe {
		return nil, &StartError{Args: c.Args, Err: errors.New("both Stdin and StdinPipe given")}
	}
	if err := context.Cause(ctx); err != nil {
		return nil, &StartError{Args: c.Args, Err: err}
	}
	p := &Process{
		args:   append([]string(nil), c.Args...),
		grace:  c.Grace,
		maxLn:  c.MaxLine,
		exited: make(chan struct{}),
		waited: make(chan struct{}),
	}
	if p.grace <= 0 {
		p.grace = DefaultGrace
	}
	if p.maxLn <= 0 {
		p.maxLn = DefaultMaxLine
	}
	limit := c.StderrLimit
	if limit == 0 {
		limit = DefaultStderrLimit
	}
	p.stderr = &capture{limit: max(limit, 0)}

	cmd := exec.Command(c.Args[0], c.Args[1:]...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	setGroup(cmd)
	p.cmd = cmd

	// Every stream is an *os.File, so os/exec starts no goroutine of its
	// own and Wait below controls when each pipe is closed.
	var closeAfterStart []*os.File
	fail := func(err error) (*Process, error) {
		for _, f := range closeAfterStart {
			f.Close()
		}
		for _, f := range []*os.File{p.stdout, p.stderrR, p.stdin} {
			if f != nil {
				f.Close()
			}
		}
		return nil, &StartError{Args: p.args, Err: err}
	}
	var copyFrom io.Reader
	switch in := c.Stdin.(type) {
	case nil:
		if c.StdinPipe {
			r, w, err := os.Pipe()
			if err != nil {
				return fail(err)
			}
			cmd.Stdin, p.stdin = r, w
			closeAfterStart = append(closeAfterStart, r)
		}
	case *os.File:
		cmd.Stdin = in
	default:
		r, w, err := os.Pipe()
		if err != nil {
			return fail(err)
		}
		cmd.Stdin, p.stdin = r, w
		closeAfterStart = append(closeAfterStart, r)
		copyFrom = in
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail(err)
	}
	cmd.Stdout, p.stdout = w, r
	closeAfterStart = append(closeAfterStart, w)
	r, w, err = os.Pipe()
	if err != nil {
		return fail(err)
	}
	cmd.Stderr, p.stderrR = w, r
	closeAfterStart = append(closeAfterStart, w)

	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	for _, f := range closeAfterStart {
		f.Close()
	}

	p.ctx, p.cancel = context.WithCancelCause(ctx)
	if c.Timeout > 0 {
		var stop context.CancelFunc
		p.ctx, stop = context.WithTimeoutCause(p.ctx, c.Timeout,
			fmt.Errorf("timeout of %v: %w", c.Timeout, context.DeadlineExceeded))
		cancel := p.cancel
		p.cancel = func(cause error) { cancel(cause); stop() }
	}

	// The reaper: when the leader ends, whatever is left of its group is
	// killed, so that no child outlives Wait. The leader is reaped first
	// (os/exec offers no hook in between); its pid stays the group's id
	// as long as one process of the group is left, so the signal cannot
	// reach another group unless the group is already empty and a new
	// process has taken its number in between, which Linux makes
	// vanishingly rare (pids are allocated cyclically).
	p.wg.Go(func() {
		_ = cmd.Wait()
		kill(cmd.Process)
		close(p.exited)
	})
	// The stopper: a done context terminates the group, then kills it.
	p.wg.Go(func() {
		select {
		case <-p.exited:
			return
		case <-p.ctx.Done():
		}
		select {
		case <-p.exited:
			return // it ended by itself first: not stopped
		default:
		}
		p.mu.Lock()
		p.stopped, p.cause = true, context.Cause(p.ctx)
		p.mu.Unlock()
		terminate(cmd.Process)
		t := time.NewTimer(p.grace)
		defer t.Stop()
		select {
		case <-p.exited:
		case <-t.C:
			kill(cmd.Process)
			<-p.exited
		}
		// A process that left the group may still hold standard
		// output: a caller in Lines would wait for it. The output of a
		// stopped process is not wanted; after a grace, it is closed.
		t.Reset(p.grace)
		select {
		case <-p.waited:
		case <-t.C:
			p.closeStdout()
		}
	})
	// Standard error is always read, so that a process that writes much
	// of it never blocks; the first bytes are kept.
	p.wg.Go(func() {
		_, _ = io.Copy(p.stderr, p.stderrR)
	})
	if copyFrom != nil {
		// This goroutine is not in wg: it may be blocked in the
		// caller's Read, which nothing here can interrupt.
		p.stdinErr = make(chan struct{})
		go func() {
			defer close(p.stdinErr)
			_, _ = io.Copy(p.stdin, copyFrom)
			p.closeStdin()
		}()
	}
	return p, nil
}

// Pid is the process's id, which is also its process group's id on Unix.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stdin is the write end of the process's standard input when Cmd.StdinPipe
// was set, and nil otherwise. The caller must close it (the process sees the
// end of its input); Wait closes it too. Write to it from one goroutine
// while another reads the output: a process that answers as it reads (cat,
// tr) fills its output pipe otherwise, and both sides wait for ever.
func (p *Process) Stdin() io.WriteCloser {
	if p.stdin == nil || p.stdinErr != nil {
		return nil
	}
	return stdinWriter{p}
}

type stdinWriter struct{ p *Process }

func (w stdinWriter) Write(b []byte) (int, error) { return w.p.stdin.Write(b) }
func (w stdinWriter) Close() error                { p := w.p; p.closeStdin(); return nil }

func (p *Process) closeStdin() {
	p.stdinOnce.Do(func() { p.stdin.Close() })
}

// Stdout is the process's standard output, read as it is written. Stdout
// and Lines share it: use one at a time. Wait closes it; read it before
// calling Wait, not during. After a stop (a done context, a timeout), it is
// closed after Cmd.Grace even if a process that left the group still holds
// it, and then reads as ended.
func (p *Process) Stdout() io.Reader { return stdoutReader{p} }

type stdoutReader struct{ p *Process }

func (r stdoutReader) Read(b []byte) (int, error) {
	n, err := r.p.stdout.Read(b)
	if errors.Is(err, os.ErrClosed) {
		err = io.EOF
	}
	return n, err
}

// closeStdout closes the read end of standard output: a process that
// writes to it again gets SIGPIPE (or EPIPE if it ignores that signal).
func (p *Process) closeStdout() {
	p.stdoutOnce.Do(func() { p.stdout.Close() })
}

// Lines yields the lines of standard output as they are written, without
// their "\n" or "\r\n". A last line without an end of line is yielded too.
//
// A line longer than Cmd.MaxLine is not read into memory: Lines yields a
// *LineTooLongError and stops. A read error is yielded the same way.
//
// Breaking out of the loop early closes standard output: a process that
// writes to it again gets SIGPIPE, as with "| head" in a shell. Wait still
// has to be called.
func (p *Process) Lines() iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		sc := bufio.NewScanner(p.Stdout())
		sc.Buffer(make([]byte, 0, min(4096, p.maxLn+2)), p.maxLn+2) // +2: room for "\r\n"
		n := 0
		for sc.Scan() {
			n++
			b := sc.Bytes()
			if len(b) > p.maxLn {
				p.closeStdout()
				yield("", &LineTooLongError{Line: n, Max: p.maxLn})
				return
			}
			if !yield(string(b), nil) {
				p.closeStdout()
				return
			}
		}
		if err := sc.Err(); err != nil {
			p.closeStdout()
			if errors.Is(err, bufio.ErrTooLong) {
				err = &LineTooLongError{Line: n + 1, Max: p.maxLn}
			}
			yield("", err)
		}
	}
}

// Stderr returns the first bytes of standard error (at most
// Cmd.StderrLimit) written so far, and whether more was written.
func (p *Process) Stderr() (b []byte, truncated bool) { return p.stderr.get() }

// Wait waits for the process to end and returns its exit code, with a nil
// error if it is 0, and otherwise:
//
//   - *StoppedError if ctx, Start's context or Cmd.Timeout ended first and
//     the process was stopped (its Cause is why);
//   - *ExitError for a non-zero exit code, with the start of standard error;
//   - *SignalError if a signal not sent by this package ended it.
//
// The code is -1 when the process did not exit by itself.
//
// Standard output not read yet is read and dropped. When Wait returns, the
// process and every process of its group have ended (the ones left behind
// by the process are killed), and no goroutine of the Process is left
// (but the copy of a Cmd.Stdin whose Read never returns).
//
// Unlike awaiting a gather Future, a done ctx does not let Wait return while
// the process runs on: it stops the process, as Start's context would.
// Wait may be called again and from several goroutines: it returns the same.
func (p *Process) Wait(ctx context.Context) (int, error) {
	p.waitOnce.Do(func() { p.wait(ctx) })
	return p.code, p.err
}

func (p *Process) wait(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { p.cancel(context.Cause(ctx)) })
	defer stop()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, p.Stdout())
	}()
	<-p.exited
	if p.stdin != nil && p.stdinErr == nil {
		p.closeStdin()
	}
	// The group is gone, so the pipes close now, unless a process left
	// the group and holds them: after the grace, they are closed here.
	t := time.NewTimer(p.grace)
	select {
	case <-drained:
	case <-t.C:
	}
	t.Stop()
	p.closeStdout()
	close(p.waited)
	<-drained
	stderrDone := make(chan struct{})
	go func() { p.wg.Wait(); close(stderrDone) }()
	t = time.NewTimer(p.grace)
	select {
	case <-stderrDone:
	case <-t.C:
	}
	t.Stop()
	p.stderrR.Close()
	<-stderrDone
	if p.stdinErr != nil {
		p.closeStdin()
		t = time.NewTimer(p.grace)
		select {
		case <-p.stdinErr:
		case <-t.C:
		}
		t.Stop()
	}
	p.mu.Lock()
	stopped, cause := p.stopped, p.cause
	p.mu.Unlock()
	p.cancel(nil)

	st := p.cmd.ProcessState
	p.code = st.ExitCode()
	stderr, trunc := p.stderr.get()
	switch sig, signalled := exitSignal(st); {
	case stopped:
		p.err = &StoppedError{Args: p.args, Cause: cause, Code: p.code}
	case signalled:
		p.err = &SignalError{Args: p.args, Signal: sig, Stderr: stderr, StderrTruncated: trunc}
	case p.code != 0:
		p.err = &ExitError{Args: p.args, Code: p.code, Stderr: stderr, StderrTruncated: trunc}
	}
}

// Output runs the process and returns its standard output, at most
// Cmd.MaxOutput bytes of it. More output is an *OutputTooLargeError: the
// process is then stopped, and the first Cmd.MaxOutput bytes are returned
// with the error. Otherwise the error is Start's or Wait's.
func Output(ctx context.Context, c Cmd) ([]byte, error) {
	limit := c.MaxOutput
	if limit <= 0 {
		limit = DefaultMaxOutput
	}
	p, err := Start(ctx, c)
	if err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(io.LimitReader(p.Stdout(), int64(limit)+1))
	if rerr == nil && len(out) > limit {
		tooLarge := &OutputTooLargeError{Args: p.args, Max: limit}
		p.cancel(tooLarge)
		_, _ = p.Wait(ctx)
		return out[:limit], tooLarge
	}
	_, err = p.Wait(ctx)
	if err == nil && rerr != nil {
		err = rerr
	}
	return out, err
}

// capture keeps the first limit bytes written to it.
type capture struct {
	mu    sync.Mutex
	limit int
	buf   []byte
	more  bool
}

func (c *capture) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.limit - len(c.buf)
	if len(b) > room {
		c.more = true
		c.buf = append(c.buf, b[:room]...)
	} else {
		c.buf = append(c.buf, b...)
	}
	return len(b), nil
}

func (c *capture) get() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...), c.more
}
