package job

import (
	"os"
	"path/filepath"
	"sync"
	"time"
)

// A ReadOption changes how OpenReader opens a job file.
type ReadOption func(*readOptions)

type readOptions struct {
	afterClose bool
}

// AfterClose makes OpenReader skip the whole-file check of a job file
// that this process has just closed cleanly (Close returned nil) and that
// has not changed since: the run checked it when it opened it, and wrote
// it through SQLite only. A file that another process or a failed Close
// may have changed is checked as always.
func AfterClose() ReadOption {
	return func(o *readOptions) { o.afterClose = true }
}

// fileState is a job file as a clean Close left it.
type fileState struct {
	info os.FileInfo
	size int64
	mod  time.Time
}

var (
	cleanMu sync.Mutex
	clean   = map[string]fileState{} // by absolute path
)

// closedCleanly records the job file at path as Close left it.
func closedCleanly(path string) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return
	}
	fi, err := os.Stat(path)
	cleanMu.Lock()
	defer cleanMu.Unlock()
	if err != nil {
		delete(clean, abs)
		return
	}
	clean[abs] = fileState{fi, fi.Size(), fi.ModTime()}
}

// unchangedSinceClose reports whether the file at path is the one a clean
// Close of this process left, unchanged since, and no -wal or -journal
// beside it.
func unchangedSinceClose(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	cleanMu.Lock()
	st, ok := clean[abs]
	cleanMu.Unlock()
	if !ok {
		return false
	}
	fi, err := os.Stat(path)
	if err != nil || !os.SameFile(fi, st.info) || fi.Size() != st.size || !fi.ModTime().Equal(st.mod) {
		return false
	}
	for _, ext := range []string{"-wal", "-journal"} {
		if _, err := os.Stat(path + ext); err == nil {
			return false
		}
	}
	return true
}
