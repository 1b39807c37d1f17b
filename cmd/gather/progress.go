package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/gogather/gather/fetch"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is the live display on standard error while a run goes on:
// the records done against the inputs to do (known for a regular file,
// whose lines are counted first, beside the run), the rate, the requests
// in flight, the errors and the time left; for a pipe, counts and the rate.
// It exists only when standard error is a terminal; all its methods accept
// a nil receiver.
type progress struct {
	bar   *progressbar.ProgressBar
	start time.Time
	total atomic.Int64 // the inputs this run has to do, -1 until known
	shown int64        // the total the bar shows (-1: unknown); the updater's
	base  int64        // inputs done before this run (a job's stored results)

	finished bool // finish was called
}

// progressState is what the display shows at an update. Fields may be
// added: each update passes the state whole.
type progressState struct {
	Done   int64      // records written (or stored) by this run
	Failed int64      // of which failed
	Load   fetch.Load // requests on the wire, inputs waiting for a slot, a rate or a retry
}

// newProgress returns a display on standard error, or nil when it is not
// a terminal.
var newProgress = func() *progress {
	f, ok := stdio.err.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return newProgressTo(f, 200*time.Millisecond)
}

// newProgressTo returns a display writing to w, rendering at most every
// throttle.
func newProgressTo(w io.Writer, throttle time.Duration) *progress {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionThrottle(throttle),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionShowCount(),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetSpinnerChangeInterval(0), // no ticker goroutine: we render
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	}
	p := &progress{bar: progressbar.NewOptions64(-1, opts...), start: time.Now(), shown: -1}
	p.total.Store(-1)
	return p
}

// update shows the state of the run.
func (p *progress) update(s progressState) {
	if p == nil {
		return
	}
	if t := p.total.Load(); t >= 0 && t != p.shown {
		p.shown = t
		p.bar.ChangeMax64(max(t, 1))
	}
	if p.shown >= 0 && s.Done > p.shown {
		p.shown = s.Done // an estimate exceeded (CSV rows of several lines are fewer records)
		p.bar.ChangeMax64(s.Done)
	}
	rate := float64(s.Done) / max(time.Since(p.start).Seconds(), 1e-3)
	p.bar.Describe(describeLoad(rate, s))
	p.bar.Set64(s.Done)
}

// countLines counts the lines of the regular file name beside the run, so
// that the display knows the inputs to do: lines, less a CSV header and
// the base already done. The count stops when ctx ends or when stop is
// called; stop returns once the count is over. The run owns the count:
// it calls stop at its end.
func (p *progress) countLines(ctx context.Context, name string, header bool) (stop func()) {
	return p.count(ctx, header, func(ctx context.Context) (int64, error) {
		return countFileLines(ctx, name)
	})
}

// countLinesFrom counts, as countLines does, the lines of the open
// regular file f from offset off (where its reader starts: standard input
// redirected from a file may have been read in part), by ReadAt: f's
// offset, which the run reads from, is left alone.
func (p *progress) countLinesFrom(ctx context.Context, f *os.File, off int64, header bool) (stop func()) {
	return p.count(ctx, header, func(ctx context.Context) (int64, error) {
		return countLinesAt(ctx, f, off)
	})
}

func (p *progress) count(ctx context.Context, header bool, count func(context.Context) (int64, error)) (stop func()) {
	if p == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, err := count(ctx)
		if err != nil {
			return
		}
		if header {
			n--
		}
		p.total.Store(max(n-p.base, 0))
	}()
	return func() {
		cancel()
		<-done
	}
}

// countFileLines counts the lines of the file name, as countLinesAt does.
func countFileLines(ctx context.Context, name string) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return countLinesAt(ctx, f, 0)
}

// countLinesAt counts the lines of r from offset off (a last line without
// a newline counts), reading it in large blocks: gigabytes a second. It
// returns ctx's error once ctx ends.
func countLinesAt(ctx context.Context, r io.ReaderAt, off int64) (int64, error) {
	buf := make([]byte, 1<<20)
	var n int64
	last := byte('\n')
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		k, err := r.ReadAt(buf, off)
		off += int64(k)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, nil
}

// finish clears the display, so the summary that follows starts clean.
func (p *progress) finish() {
	if p == nil || p.finished {
		return
	}
	p.finished = true
	p.bar.Finish()
	p.bar.Exit()
}

// Write finishes the display (the bar is cleared) and writes b to standard
// error: what is printed after the run (the summary) never shares the
// bar's line.
func (p *progress) Write(b []byte) (int, error) {
	p.finish()
	return stdio.err.Write(b)
}

// interruptibleReader reads r in a goroutine of its own so that a Read
// returns io.EOF as soon as ctx is done, even when r blocks (standard input
// from a producer that has gone quiet): Ctrl-C then ends the run at once
// instead of waiting for the next input line. A read in progress when ctx
// ends is abandoned; its goroutine ends with the process, which is about to
// exit.
type interruptibleReader struct {
	ctx     context.Context
	r       io.Reader
	chunks  chan readChunk
	pending []byte
	err     error
	started bool
}

type readChunk struct {
	b   []byte
	err error
}

func newInterruptibleReader(ctx context.Context, r io.Reader) *interruptibleReader {
	return &interruptibleReader{ctx: ctx, r: r, chunks: make(chan readChunk)}
}

func (ir *interruptibleReader) Read(p []byte) (int, error) {
	if len(ir.pending) == 0 && ir.err == nil {
		if !ir.started {
			ir.started = true
			go ir.pump()
		}
		select {
		case c := <-ir.chunks:
			ir.pending, ir.err = c.b, c.err
		case <-ir.ctx.Done():
			return 0, io.EOF
		}
	}
	n := copy(p, ir.pending)
	ir.pending = ir.pending[n:]
	if len(ir.pending) == 0 && ir.err != nil {
		return n, ir.err
	}
	return n, nil
}

// pump reads r until it fails, handing each chunk over; it stops when the
// reader's context is done.
func (ir *interruptibleReader) pump() {
	for {
		buf := make([]byte, 64<<10)
		n, err := ir.r.Read(buf)
		select {
		case ir.chunks <- readChunk{buf[:n], err}:
		case <-ir.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// describeLoad is the text after the bar: the rate, the requests on the
// wire (never more than -c) and, apart, the inputs waiting for a slot (the
// overall or the host's), a rate token or a retry's back-off.
func describeLoad(rate float64, s progressState) string {
	d := fmt.Sprintf("%.0f/s  %d on the wire", rate, s.Load.OnWire)
	if l := s.Load; l.WaitingSlot+l.WaitingRate+l.WaitingRetry > 0 {
		d += fmt.Sprintf(" (waiting: %d slot, %d rate, %d retry)", l.WaitingSlot, l.WaitingRate, l.WaitingRetry)
	}
	return d + fmt.Sprintf("  %d errors", s.Failed)
}
