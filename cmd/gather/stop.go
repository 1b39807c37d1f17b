package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A stopper turns Ctrl-C and SIGTERM into a stop in steps. The first
// signal stops new inputs (Stopping turns true) and, after the grace
// period, cancels the requests in flight (Context ends); a second signal
// cancels them at once. Once the requests are cancelled the default
// handling is back, so a further signal ends the process at once.
type stopper struct {
	ctx       context.Context // the requests' context
	cancel    context.CancelFunc
	stopping  atomic.Bool
	signalled atomic.Bool
	stop      chan struct{} // closed when stopping starts
	read      context.Context
	stopRead  context.CancelFunc
	stopOnce  sync.Once
	sigs      chan os.Signal
	quit      chan struct{}
	wg        sync.WaitGroup
}

// newStopper starts listening for the signals. note, when not nil, is
// called on the first signal with the grace period (grace > 0 only).
func newStopper(parent context.Context, grace time.Duration, note func(grace time.Duration)) *stopper {
	s := &stopper{stop: make(chan struct{}), sigs: make(chan os.Signal, 2), quit: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(parent)
	s.read, s.stopRead = context.WithCancel(s.ctx)
	signal.Notify(s.sigs, os.Interrupt, syscall.SIGTERM)
	s.wg.Go(func() {
		var timer <-chan time.Time
		for {
			select {
			case <-s.sigs:
				s.signalled.Store(true)
				first := !s.stopping.Load()
				s.startStopping()
				if first && grace > 0 {
					if note != nil {
						note(grace)
					}
					timer = time.After(grace)
					continue
				}
			case <-timer:
			case <-s.ctx.Done():
			case <-s.quit:
				return
			}
			s.startStopping() // before the cancel: a reader cut short by it sees it
			s.cancel()
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			<-s.quit
			return
		}
	})
	return s
}

// startStopping turns Stopping true and closes Stopped's channel.
func (s *stopper) startStopping() {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		close(s.stop)
		s.stopRead()
	})
}

// Stopped returns a channel closed when stopping starts: no new request
// is sent after it (fetch.StopStarting).
func (s *stopper) Stopped() <-chan struct{} { return s.stop }

// Abort stops the run at once: new inputs and the requests in flight. It is
// for a run that cannot go on (its output or its job file failed).
func (s *stopper) Abort() {
	s.startStopping()
	s.cancel()
}

// ReadContext ends when stopping starts: the input's reader stops then
// (an idle standard input does not hold the run), and requests() sees
// Stopping before it could take a line cut short for a record.
func (s *stopper) ReadContext() context.Context { return s.read }

// Context is the requests' context.
func (s *stopper) Context() context.Context { return s.ctx }

// Stopping reports whether a signal asked to stop: no new input starts.
func (s *stopper) Stopping() bool { return s.stopping.Load() }

// Signalled reports whether a signal arrived.
func (s *stopper) Signalled() bool { return s.signalled.Load() }

// Close stops listening, restores the signals' default handling and cancels
// the context.
func (s *stopper) Close() {
	close(s.quit)
	s.wg.Wait()
	signal.Stop(s.sigs)
	s.Abort()
}
