//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// openFilesNote returns a warning when the open-files limit is low for the
// concurrency (Go raises the soft limit to the hard one at start; this says
// when even that is not enough), else "". Unix only: elsewhere there is no
// such limit to read, and no note.
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
