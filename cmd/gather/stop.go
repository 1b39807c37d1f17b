package main

import (
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
// further signal ends the process at once.
type signals struct {
	sigs chan os.Signal
	quit chan struct{}
	wg   sync.WaitGroup
	got  atomic.Bool
}

// handleSignals starts listening for the signals of r's stop. With a grace
// period, the first signal prints a note (unless quiet).
func handleSignals(r *run.Run, grace time.Duration, quiet bool) *signals {
	s := &signals{sigs: make(chan os.Signal, 2), quit: make(chan struct{})}
	signal.Notify(s.sigs, os.Interrupt, syscall.SIGTERM)
	s.wg.Go(func() {
		for {
			select {
			case <-s.sigs:
			case <-s.quit:
				return
			}
			s.got.Store(true)
			if !r.Stopping() && grace > 0 {
				if !quiet {
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
	})
	return s
}

// signalled reports whether a signal arrived.
func (s *signals) signalled() bool { return s.got.Load() }

// close stops listening and restores the signals' default handling.
func (s *signals) close() {
	close(s.quit)
	s.wg.Wait()
	signal.Stop(s.sigs)
}
