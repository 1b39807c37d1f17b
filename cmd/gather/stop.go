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
// signal stops new inputs (StopContext ends) and, after the grace period,
// cancels the requests in flight (Context ends); a second signal cancels
// them at once. Once the requests are cancelled the default handling is
// back, so a further signal ends the process at once.
//
// StopContext is a child of Context, so "stopping" is one state with one
// source: it has begun whenever StopContext has ended, whichever of a
// signal, the grace period, Abort or Close ended it.
type stopper struct {
	ctx       context.Context // the requests'
	cancel    context.CancelFunc
	stop      context.Context // new inputs'
	stopNew   context.CancelFunc
	signalled atomic.Bool
	sigs      chan os.Signal
	asked     chan struct{} // Stop's: a first signal, but not a signal
	quit      chan struct{}
	wg        sync.WaitGroup
}

// newStopper starts listening for the signals. note, when not nil, is
// called on the first signal with the grace period (grace > 0 only).
func newStopper(parent context.Context, grace time.Duration, note func(grace time.Duration)) *stopper {
	s := &stopper{sigs: make(chan os.Signal, 2), asked: make(chan struct{}, 1), quit: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(parent)
	s.stop, s.stopNew = context.WithCancel(s.ctx)
	signal.Notify(s.sigs, os.Interrupt, syscall.SIGTERM)
	s.wg.Go(func() {
		var timer <-chan time.Time
		for {
			select {
			case <-s.asked: // Stop has stopped new inputs
				if grace > 0 {
					if timer == nil {
						timer = time.After(grace)
					}
					continue
				}
			case <-s.sigs:
				s.signalled.Store(true)
				if first := s.stop.Err() == nil; first && grace > 0 {
					s.stopNew()
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
			s.Abort()
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			<-s.quit
			return
		}
	})
	return s
}

// StopContext ends when stopping starts: no new request is sent after it
// (fetch.StopStarting), and the input's reader stops then (an idle
// standard input does not hold the run; requests() sees Stopping before
// it could take a line cut short for a record).
func (s *stopper) StopContext() context.Context { return s.stop }

// Stop stops the run as a first Ctrl-C does, but is not a signal: no new
// request starts, and those in flight have the grace period to finish
// (none without one). It is for a run whose output was closed.
func (s *stopper) Stop() {
	s.stopNew()
	select {
	case s.asked <- struct{}{}:
	default:
	}
}

// Abort stops the run at once: new inputs and the requests in flight. It is
// for a run that cannot go on (its output or its job file failed).
func (s *stopper) Abort() {
	s.stopNew() // first, so that a reader cut short by the cancel sees it
	s.cancel()
}

// Context is the requests' context.
func (s *stopper) Context() context.Context { return s.ctx }

// Stopping reports whether the run is stopping: no new input starts.
func (s *stopper) Stopping() bool { return s.stop.Err() != nil }

// Signalled reports whether a signal arrived.
func (s *stopper) Signalled() bool { return s.signalled.Load() }

// Close stops listening, restores the signals' default handling and cancels
// the contexts.
func (s *stopper) Close() {
	close(s.quit)
	s.wg.Wait()
	signal.Stop(s.sigs)
	s.Abort()
}
