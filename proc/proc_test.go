//go:build unix

package proc_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogather/gather/proc"
)

func start(t *testing.T, ctx context.Context, c proc.Cmd) *proc.Process {
	t.Helper()
	p, err := proc.Start(ctx, c)
	if err != nil {
		t.Fatalf("Start(%q): %v", c.Args, err)
	}
	return p
}

func TestStdinPipedToTrComesBackUppercaseLineByLine(t *testing.T) {
	p := start(t, t.Context(), proc.Cmd{
		Args:  []string{"tr", "a-z", "A-Z"},
		Stdin: strings.NewReader("hello\nworld\nno end of line"),
	})
	var got []string
	for line, err := range p.Lines() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	if code, err := p.Wait(t.Context()); code != 0 || err != nil {
		t.Fatalf("Wait = %d, %v", code, err)
	}
	if want := "HELLO|WORLD|NO END OF LINE"; strings.Join(got, "|") != want {
		t.Fatalf("lines = %q, want %q", got, want)
	}
}

func TestFirstLineIsReadBeforeTheProcessExits(t *testing.T) {
	p := start(t, t.Context(), proc.Cmd{Args: []string{"sh", "-c", "echo first; exec sleep 100"}})
	for line, err := range p.Lines() {
		if err != nil || line != "first" {
			t.Fatalf("first line = %q, %v", line, err)
		}
		break
	}
	// The process sleeps: the line came as it was written. Stop it.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := p.Wait(ctx)
	var stopped *proc.StoppedError
	if !errors.As(err, &stopped) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel = %v, want a *StoppedError for context.Canceled", err)
	}
}

func TestCallerWritesStdinWhileReadingStdoutWithoutDeadlock(t *testing.T) {
	p := start(t, t.Context(), proc.Cmd{Args: []string{"cat"}, StdinPipe: true})
	in := p.Stdin()
	next, stop := iterPull(p)
	defer stop()
	for i := range 100 {
		want := strings.Repeat(strconv.Itoa(i), 1000) // 100 KB in all, beyond a pipe's buffer
		if _, err := io.WriteString(in, want+"\n"); err != nil {
			t.Fatal(err)
		}
		line, err, ok := next()
		if !ok || err != nil || line != want {
			t.Fatalf("line %d: %.20q, %v, %v", i, line, err, ok)
		}
	}
	in.Close()
	if _, err, ok := next(); ok {
		t.Fatalf("a line after stdin closed: %v", err)
	}
	if code, err := p.Wait(t.Context()); code != 0 || err != nil {
		t.Fatalf("Wait = %d, %v", code, err)
	}
}

func TestStreamingManyMegabytesKeepsTheHeapSmallAndBreakingStopsTheWriter(t *testing.T) {
	line := strings.Repeat("y", 99)
	p := start(t, t.Context(), proc.Cmd{Args: []string{"yes", line}})
	const total = 200 << 20
	var read int
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	var peak uint64
	for l, err := range p.Lines() {
		if err != nil {
			t.Fatal(err)
		}
		if l != line {
			t.Fatalf("line = %q", l)
		}
		read += len(l) + 1
		if read%(20<<20) < 100 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		if read >= total {
			break
		}
	}
	if grown := int64(peak) - int64(before); grown > 16<<20 {
		t.Errorf("heap in use grew by %d bytes while reading %d bytes", grown, read)
	}
	// Breaking closed stdout: yes dies of SIGPIPE, and Wait says so.
	done := make(chan struct{})
	var err error
	go func() { _, err = p.Wait(t.Context()); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after the loop was left")
	}
	var sig *proc.SignalError
	if !errors.As(err, &sig) || sig.Signal != syscall.SIGPIPE {
		t.Fatalf("Wait = %v, want a *SignalError for SIGPIPE", err)
	}
	if alive(p.Pid()) {
		t.Fatal("yes still runs")
	}
}

func TestTimeoutKillsTheWholeProcessGroup(t *testing.T) {
	p := start(t, t.Context(), proc.Cmd{
		Args:    []string{"sh", "-c", "sleep 100 & echo $!; sleep 100; wait"},
		Timeout: 300 * time.Millisecond,
		Grace:   500 * time.Millisecond,
	})
	var child int
	for line, err := range p.Lines() {
		if err != nil {
			t.Fatal(err)
		}
		child, err = strconv.Atoi(line)
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if !alive(child) {
		t.Fatalf("child %d not running before the timeout", child)
	}
	begin := time.Now()
	code, err := p.Wait(t.Context())
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Wait took %v", d)
	}
	var stopped *proc.StoppedError
	if !errors.As(err, &stopped) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %d, %v; want a *StoppedError for the deadline", code, err)
	}
	if !strings.Contains(err.Error(), "timeout of 300ms") {
		t.Errorf("error %q does not name the timeout", err)
	}
	if alive(p.Pid()) || alive(child) {
		t.Fatalf("after the timeout: shell alive %v, child %d alive %v", alive(p.Pid()), child, alive(child))
	}
}

func TestLeftoverChildIsKilledWhenTheProcessExits(t *testing.T) {
	// The child holds stdout open: without the group kill, Wait would
	// wait for it for 100 s.
	p := start(t, t.Context(), proc.Cmd{Args: []string{"sh", "-c", "sleep 100 & echo $!"}})
	var child int
	for line, err := range p.Lines() {
		if err != nil {
			t.Fatal(err)
		}
		child, _ = strconv.Atoi(line)
	}
	if code, err := p.Wait(t.Context()); code != 0 || err != nil {
		t.Fatalf("Wait = %d, %v", code, err)
	}
	if alive(child) {
		t.Fatalf("child %d outlived Wait", child)
	}
}

func TestProcessIgnoringSIGTERMIsKilledAfterTheGrace(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	p := start(t, ctx, proc.Cmd{
		Args:  []string{"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"},
		Grace: 300 * time.Millisecond,
	})
	for range p.Lines() {
		break
	}
	begin := time.Now()
	cancel()
	code, err := p.Wait(t.Context())
	d := time.Since(begin)
	if d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("Wait took %v, want about the grace of 300ms", d)
	}
	var stopped *proc.StoppedError
	if !errors.As(err, &stopped) || code != -1 || stopped.Code != -1 {
		t.Fatalf("Wait = %d, %v", code, err)
	}
}

func TestCancelReturnsPromptlyWithATypedError(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	p := start(t, ctx, proc.Cmd{Args: []string{"sleep", "100"}})
	why := errors.New("the user pressed Ctrl-C")
	time.AfterFunc(100*time.Millisecond, func() { cancel(why) })
	begin := time.Now()
	code, err := p.Wait(t.Context())
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Wait took %v", d)
	}
	var stopped *proc.StoppedError
	if !errors.As(err, &stopped) || !errors.Is(err, why) || code != -1 {
		t.Fatalf("Wait = %d, %v; want a *StoppedError with the cause", code, err)
	}
}

func TestWaitContextStopsTheProcess(t *testing.T) {
	p := start(t, t.Context(), proc.Cmd{Args: []string{"sleep", "100"}})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := p.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v", err)
	}
	if alive(p.Pid()) {
		t.Fatal("sleep outlived Wait")
	}
}

func TestNonZeroExitCarriesTheCodeAndTheStartOfStderr(t *testing.T) {
	p := start(t, t.Context(), proc.Cmd{
		Args:        []string{"sh", "-c", "echo 'sort: cannot read: x' >&2; head -c 100000 /dev/zero >&2; exit 3"},
		StderrLimit: 1000,
	})
	code, err := p.Wait(t.Context())
	var exit *proc.ExitError
	if !errors.As(err, &exit) || code != 3 || exit.Code != 3 {
		t.Fatalf("Wait = %d, %v", code, err)
	}
	if !strings.HasPrefix(string(exit.Stderr), "sort: cannot read: x\n") || len(exit.Stderr) != 1000 || !exit.StderrTruncated {
		t.Fatalf("Stderr = %.40q (%d bytes), truncated %v", exit.Stderr, len(exit.Stderr), exit.StderrTruncated)
	}
	if want := `proc: "sh" exited with code 3: sort: cannot read: x`; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
}

func TestMissingProgramCannotStart(t *testing.T) {
	for _, tc := range []struct {
		prog string
		is   error
	}{
		{"gather-no-such-program", exec.ErrNotFound},
		{"/nonexistent/prog", fs.ErrNotExist},
		{"/etc/passwd", fs.ErrPermission},
	} {
		_, err := proc.Start(t.Context(), proc.Cmd{Args: []string{tc.prog}})
		var se *proc.StartError
		if !errors.As(err, &se) || !errors.Is(err, tc.is) {
			t.Errorf("Start(%s) = %v, want a *StartError for %v", tc.prog, err, tc.is)
		}
	}
}

func TestOverLongLineIsAnErrorNamingTheBound(t *testing.T) {
	p := start(t, t.Context(), proc.Cmd{
		Args:    []string{"sh", "-c", "echo short; head -c 5000 /dev/zero | tr '\\0' x; echo"},
		MaxLine: 100,
	})
	var lines []string
	var lerr error
	for line, err := range p.Lines() {
		if err != nil {
			lerr = err
			break
		}
		lines = append(lines, line)
	}
	p.Wait(t.Context())
	var tl *proc.LineTooLongError
	if !errors.As(lerr, &tl) || tl.Max != 100 || tl.Line != 2 || len(lines) != 1 {
		t.Fatalf("lines %q, error %v", lines, lerr)
	}
	if !strings.Contains(lerr.Error(), "100 bytes") {
		t.Fatalf("error %q does not name the bound", lerr)
	}
}

func TestLineOfExactlyTheBoundIsKept(t *testing.T) {
	p := start(t, t.Context(), proc.Cmd{Args: []string{"printf", "%s\r\n", "0123456789"}, MaxLine: 10})
	for line, err := range p.Lines() {
		if err != nil || line != "0123456789" {
			t.Fatalf("line %q, %v", line, err)
		}
	}
	if _, err := p.Wait(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestWaitWithoutReadingDrainsTheOutput(t *testing.T) {
	// 1 MB of output is more than a pipe holds: unread, it would block.
	p := start(t, t.Context(), proc.Cmd{Args: []string{"head", "-c", "1000000", "/dev/zero"}})
	if code, err := p.Wait(t.Context()); code != 0 || err != nil {
		t.Fatalf("Wait = %d, %v", code, err)
	}
}

func TestEnvAndDirAreThoseGiven(t *testing.T) {
	dir := t.TempDir()
	out, err := proc.Output(t.Context(), proc.Cmd{
		Args: []string{"/bin/sh", "-c", `echo "$GREETING"; pwd -P; echo "${HOME-unset}"`},
		Env:  []string{"GREETING=hi"},
		Dir:  dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	real, _ := exec.Command("sh", "-c", "cd "+dir+" && pwd -P").Output()
	if want := "hi\n" + string(real) + "unset\n"; string(out) != want {
		t.Fatalf("output %q, want %q", out, want)
	}
}

func TestOutputBeyondTheBoundIsAnErrorAndStopsTheProcess(t *testing.T) {
	begin := time.Now()
	out, err := proc.Output(t.Context(), proc.Cmd{Args: []string{"yes"}, MaxOutput: 1000})
	var tl *proc.OutputTooLargeError
	if !errors.As(err, &tl) || tl.Max != 1000 || len(out) != 1000 {
		t.Fatalf("Output = %d bytes, %v", len(out), err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Output took %v", d)
	}
}

func TestStartWithADoneContextStartsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := proc.Start(ctx, proc.Cmd{Args: []string{"true"}})
	var se *proc.StartError
	if !errors.As(err, &se) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Start = %v", err)
	}
}

func TestWaitTwiceReturnsTheSame(t *testing.T) {
	p := start(t, t.Context(), proc.Cmd{Args: []string{"sh", "-c", "exit 7"}})
	c1, e1 := p.Wait(t.Context())
	c2, e2 := p.Wait(t.Context())
	if c1 != 7 || c2 != 7 || e1 != e2 {
		t.Fatalf("Wait = %d, %v then %d, %v", c1, e1, c2, e2)
	}
}

// alive reports whether the process pid exists (kill -0), reaped or not
// (a zombie is not alive here: its state is Z).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	return err == nil && !strings.HasPrefix(strings.TrimSpace(string(out)), "Z")
}

func iterPull(p *proc.Process) (func() (string, error, bool), func()) {
	return pull2(p.Lines())
}

func TestChildThatLeftTheGroupDoesNotHoldWaitOrLinesForEver(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p := start(t, ctx, proc.Cmd{
		Args:  []string{"sh", "-c", "setsid sleep 100 & echo $!; sleep 100"},
		Grace: 200 * time.Millisecond,
	})
	var escaped int
	t.Cleanup(func() {
		if escaped > 0 {
			syscall.Kill(escaped, syscall.SIGKILL)
		}
	})
	begin := time.Now()
	for line, err := range p.Lines() {
		if err != nil {
			t.Fatal(err)
		}
		escaped, _ = strconv.Atoi(line)
		cancel() // and go on reading: the escaped sleep holds stdout
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Lines took %v after the cancel", d)
	}
	_, err := p.Wait(t.Context())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Wait took %v", d)
	}
}

func TestSIGTERMComesFirstSoTheProcessCanCleanUp(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p := start(t, ctx, proc.Cmd{
		Args:  []string{"sh", "-c", "trap 'echo cleaned up; exit 0' TERM; echo ready; while :; do sleep 0.05; done"},
		Grace: 5 * time.Second,
	})
	var lines []string
	for line, err := range p.Lines() {
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
		if line == "ready" {
			cancel()
		}
	}
	code, err := p.Wait(t.Context())
	var stopped *proc.StoppedError
	if !errors.As(err, &stopped) || code != 0 || stopped.Code != 0 {
		t.Fatalf("Wait = %d, %v; want a *StoppedError with code 0", code, err)
	}
	if strings.Join(lines, "|") != "ready|cleaned up" {
		t.Fatalf("lines %q", lines)
	}
}
