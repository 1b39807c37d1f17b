package run

import (
	"errors"
	"syscall"
)

// Windows' errors of a write to a pipe whose reader has gone.
const (
	errorBrokenPipe syscall.Errno = 109 // ERROR_BROKEN_PIPE
	errorNoData     syscall.Errno = 232 // ERROR_NO_DATA: the pipe is being closed
)

// IsClosedOutput reports whether a write failed because its reader went
// away: a pipe closed by its reader (gather fetch | head -1).
func IsClosedOutput(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, errorBrokenPipe) || errors.Is(err, errorNoData)
}
