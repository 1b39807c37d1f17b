//go:build unix

package output

import (
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// appending reports whether w is a file opened for appending (O_APPEND:
// every write goes to its end, wherever its offset is), and whether that
// could be told at all.
func appending(w io.Writer) (appendOnly, known bool) {
	sc, ok := w.(syscall.Conn)
	if !ok {
		return false, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, false
	}
	var flags int
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0)
	}); err != nil || ferr != nil {
		return false, false
	}
	return flags&unix.O_APPEND != 0, true
}
