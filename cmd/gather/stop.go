package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gogather/gather/run"
)

// signals turns Ctrl-C and SIGTERM into a run's stop: the first signal
// stops new inputs and gives the work in flight the grace period (Stop);
// a second one, or a first once the run is stopping anyway, cancels it at
// once (Cancel), after which the default handling is back, so that a
// further signal ends the process at once. A signal before the run is
// attached (while the job file is opened and checked, which takes seconds
// for a big one) cancels the context listenSignals returned: what is
// starting stops, and the run, once attached, is cancelled before it reads
// anything.
type signals struct {
	sigs   chan os.Signal
	quit   chan struct{}
	wg     sync.WaitGroup
	got    atomic.Bool
	cancel context.CancelFunc

	mu    sync.Mutex
	r     *run.Run
	grace time.Duration
	quiet bool
}

// listenSignals starts listening for Ctrl-C and SIGTERM, from now on; ctx
// ends at a signal that comes before a run is attached.
func listenSignals(parent context.Context, quiet bool) (*signals, context.Context) {
	s := &signals{sigs: make(chan os.Signal, 2), quit: make(chan struct{}), quiet: quiet}
	ctx, cancel := context.WithCancel(parent)
	s.cancel = cancel
	signal.Notify(s.sigs, os.Interrupt, syscall.SIGTERM)
	s.wg.Go(s.loop)
	return s, ctx
}

// attach makes the signals stop r, with the grace period grace (and a note
// on the first signal, unless quiet). A signal that came before cancels r
// at once.
func (s *signals) attach(r *run.Run, grace time.Duration) {
	s.mu.Lock()
	s.r, s.grace = r, grace
	s.mu.Unlock()
	if s.got.Load() {
		r.Cancel()
	}
}

func (s *signals) loop() {
	for {
		select {
		case <-s.sigs:
		case <-s.quit:
			return
		}
		s.got.Store(true)
		s.mu.Lock()
		r, grace := s.r, s.grace
		s.mu.Unlock()
		if r == nil { // before the run (or a run without one): stop what is starting
			s.cancel()
			// A further signal ends the process at once: what is
			// stopping may be a step that cannot be interrupted.
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			continue
		}
		if !r.Stopping() && grace > 0 {
			if !s.quiet {
				fmt.Fprintf(stdio.err, "\ngather: stopping: no new requests; those in flight have %v to finish (Ctrl-C again to stop them now)\n", grace)
			}
			r.Stop()
			continue
		}
		// A second signal, or one that comes once the run is stopping
		// anyway (the grace period over, a closed output).
		r.Cancel()
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		<-s.quit
		return
	}
}

// signalled reports whether a signal arrived.
func (s *signals) signalled() bool { return s.got.Load() }

// close stops listening and restores the signals' default handling.
func (s *signals) close() {
	close(s.quit)
	s.wg.Wait()
	signal.Stop(s.sigs)
	s.cancel()
}
