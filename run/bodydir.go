package run

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/lockfile"
)

// ErrBodyDirInUse is the error of a body directory another gather run
// holds.
var ErrBodyDirInUse = errors.New("another gather run is writing bodies there")

// BodyDirLock is the file in a body directory (fetch.BodyDir) that one run at a
// time holds locked: bodies are named by input line, so two runs writing
// there would overwrite each other's.
const BodyDirLock = ".gather.lock"

// ClaimBodyDir locks the body directory of the dir body policy
// (fetch.BodyDir) for this run (an error wrapping ErrBodyDirInUse when
// another gather run holds it) and removes the .part files a run killed
// mid-body left there: with the lock held, no other run is writing them.
func ClaimBodyDir(dir string) (release func(), err error) {
	lf, err := os.OpenFile(filepath.Join(dir, BodyDirLock), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dir:%s: %w", dir, err)
	}
	if err := lockfile.TryLock(lf); err != nil {
		lf.Close()
		if errors.Is(err, lockfile.ErrWouldBlock) {
			return nil, fmt.Errorf("dir:%s: %w (bodies are named by input line: give each run its own directory)", dir, ErrBodyDirInUse)
		}
		return nil, fmt.Errorf("dir:%s: locking: %w", dir, err)
	}
	if _, err := fetch.RemovePartFiles(dir); err != nil {
		lf.Close()
		return nil, fmt.Errorf("dir:%s: %w", dir, err)
	}
	return func() { lf.Close() }, nil
}
