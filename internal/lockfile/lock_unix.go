//go:build unix

package lockfile

import (
	"errors"
	"os"
	"syscall"
)

// TryLock takes an exclusive advisory lock (flock) on f without waiting:
// ErrWouldBlock when another process holds it. The lock ends when f is
// closed, or when the process ends, however it ends.
func TryLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrWouldBlock
	}
	return err
}

// LockedByOther reports whether another process holds f's exclusive lock,
// by taking a shared lock without waiting and giving it back at once.
func LockedByOther(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
