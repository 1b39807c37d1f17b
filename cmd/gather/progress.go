package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is the live display on standard error while a run goes on: how
// much of the input is done (by bytes read, when the input's size is known,
// so no pass over the input is needed to count it), the rate, the requests
// in flight, the errors and the time left. It exists only when standard
// error is a terminal; all its methods accept a nil receiver.
type progress struct {
	bar   *progressbar.ProgressBar
	read  *countingReader // nil when the input's size is unknown
	start time.Time
}

// newProgress returns a display, or nil when standard error is not a
// terminal. With read, progress is the bytes read of an input of size bytes
// (-1 when unknown); without, it is the records done of size.
func newProgress(size int64, read *countingReader) *progress {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionThrottle(200 * time.Millisecond),
		progressbar.OptionSetPredictTime(size > 0),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetSpinnerChangeInterval(0), // no ticker goroutine: we render
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	}
	if size <= 0 {
		size = -1
	}
	return &progress{bar: progressbar.NewOptions64(size, opts...), read: read, start: time.Now()}
}

// update shows the counts so far: records done, failed, and requests read
// but not done (in flight or waiting for their host).
func (p *progress) update(done, failed, pending int64) {
	if p == nil {
		return
	}
	rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-3)
	p.bar.Describe(fmt.Sprintf("%d done  %.0f/s  %d in flight  %d errors", done, rate, pending, failed))
	if p.read != nil {
		p.bar.Set64(p.read.n.Load())
	} else {
		p.bar.Set64(done)
	}
}

// finish clears the display, so the summary that follows starts clean.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.bar.Finish()
	p.bar.Exit()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// openFilesNote returns a warning when the open-files limit is low for the
// concurrency (Go raises the soft limit to the hard one at start; this says
// when even that is not enough), else "".
func openFilesNote(concurrency int) string {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return ""
	}
	if need := uint64(2*concurrency + 64); lim.Cur < need {
		return fmt.Sprintf("note: the open-files limit is %d, low for %d requests in flight (about %d wanted); raise it with ulimit -n", lim.Cur, concurrency, need)
	}
	return ""
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
