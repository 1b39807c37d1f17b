//go:build !windows

package main

import (
	"errors"
	"syscall"
)

// isClosedOutput reports whether a write failed because its reader went
// away: a pipe closed by its reader (gather fetch | head -1). SIGPIPE is
// caught (run), so the write returns EPIPE instead of killing gather.
func isClosedOutput(err error) bool {
	return errors.Is(err, syscall.EPIPE)
}
