//go:build windows

package lockfile

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// TryLock takes an exclusive lock (LockFileEx) on one byte of f, far
// past any byte SQLite reads, writes or locks (its locks are at 1 GiB),
// without waiting: ErrWouldBlock when another process holds it. The lock
// ends when f is closed, or when the process ends, however it ends.
func TryLock(f *os.File) error {
	ol := lockByte()
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return ErrWouldBlock
	}
	return err
}

// lockByte is the byte TryLock locks: 2^62.
func lockByte() *windows.Overlapped { return &windows.Overlapped{Offset: 0, OffsetHigh: 0x40000000} }

// LockedByOther reports whether another process holds f's exclusive lock,
// by taking a shared lock on the same byte without waiting and giving it
// back at once.
func LockedByOther(f *os.File) (bool, error) {
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, lockByte())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, lockByte())
}
