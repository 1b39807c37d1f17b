//go:build !windows

package run

import (
	"errors"
	"syscall"
)

// IsClosedOutput reports whether a write failed because its reader went
// away: a pipe closed by its reader (gather fetch | head -1). The program
// must catch SIGPIPE (signal.Notify) for a write to a closed standard
// output to return EPIPE instead of killing the process.
func IsClosedOutput(err error) bool {
	return errors.Is(err, syscall.EPIPE)
}
