// Package lockfile takes the exclusive, non-blocking, process-wide locks
// gather uses to keep two processes off the same file: a job file, a
// directory of bodies. On Unix it is flock(2); on Windows, LockFileEx on
// one byte far past any byte SQLite locks. A lock ends when its file is
// closed or its process ends, however it ends (kill -9 included), so a
// crash never leaves a stale lock.
package lockfile

import "errors"

// ErrWouldBlock is TryLock's error when another process holds the lock.
var ErrWouldBlock = errors.New("the lock is held by another process")
