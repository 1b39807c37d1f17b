package job

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/gogather/gather/internal/lockfile"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// errRetry is create's error when it should be tried again.
var errRetry = errors.New("try again")

// openError is the error of opening (or creating) the job file at path.
func openError(path string, err error) error {
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("job file %s: cannot write it: a read-only file, directory or file system (%w)", path, errors.Unwrap(err))
	}
	return fmt.Errorf("job file: %w", err)
}

// regular refuses a path that is not a regular file: a device such as
// /dev/null, a FIFO, a directory or a socket is never a job file, and
// SQLite would create its -journal or -wal files beside it.
func regular(path string, fi fs.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch m := fi.Mode(); {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeDevice != 0:
		what = "a device"
	}
	return fmt.Errorf("%s: %w: %s; a job file is a regular file or a new path", path, ErrNotJob, what)
}

// lockPath opens the job file at path and locks it, first creating it
// (see create) when there is no file at path.
func lockPath(ctx context.Context, path string, settings []Setting) (*os.File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// Before the job is locked: a temporary name left linked to it would
	// share its lock.
	removeStale(dir, base)
	for range 10 {
		fi, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			if _, lerr := os.Lstat(path); lerr == nil {
				return nil, fmt.Errorf("%s: %w: a symbolic link to nothing", path, ErrNotJob)
			}
			// A process creating the same job at the same time wins or
			// loses the link: either way, the file at path is then opened.
			if err := create(ctx, dir, base, path, settings); err != nil && !errors.Is(err, errRetry) {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, openError(path, err)
		}
		if err := regular(path, fi); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return nil, openError(path, err)
		}
		if err := lockfile.TryLock(f); err != nil {
			f.Close()
			if errors.Is(err, lockfile.ErrWouldBlock) {
				return nil, fmt.Errorf("job file %s: %w", path, ErrLocked)
			}
			return nil, fmt.Errorf("job file %s: locking: %w", path, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("job file %s: it keeps disappearing: another process removes it", path)
}

// InUse reports whether a process holds the job file at path: a run of
// gather fetch in progress (the lock of Open, which ends with its process
// however it ends). A run the job's runs table calls "running" while no
// process holds the job was killed; the next Open marks it interrupted.
func InUse(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, openError(path, err)
	}
	defer f.Close()
	return lockfile.LockedByOther(f)
}

// tempInfix names the files a job is created under, beside it:
// ".crawl.db.new-123456".
const tempInfix = ".new-"

// create makes a new job file at path: the file is created and
// initialised (tables, settings, key) under a temporary name in the same
// directory, closed (so that SQLite leaves no -wal or -journal), synced,
// and only then linked to path. A process killed at any instant leaves
// either no file at path or a whole job file; its temporary file is
// removed by the next Open of the job. When a file appears at
// path meanwhile (another process created the job), it is left as it is.
func create(ctx context.Context, dir, base, path string, settings []Setting) error {
	// Not os.CreateTemp: its files are 0600, a job file is 0644 less the
	// umask, as before.
	var tmp *os.File
	var name string
	for {
		name = filepath.Join(dir, "."+base+tempInfix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		var err error
		tmp, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			break
		}
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("job file %s: its directory %s does not exist", path, dir)
		}
		if !errors.Is(err, fs.ErrExist) {
			return openError(path, err)
		}
	}
	defer func() {
		tmp.Close()
		removeDB(name)
	}()
	// Locked while it is made, so that removeStale leaves it alone.
	if err := lockfile.TryLock(tmp); err != nil {
		return fmt.Errorf("job file %s: locking %s: %w", path, name, err)
	}
	db, err := openWrite(name)
	if err != nil {
		return fileError(path, err)
	}
	err = initJob(ctx, db, settings)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		return fileError(path, err)
	}
	if _, err := os.Stat(name + "-wal"); err == nil {
		return fmt.Errorf("job file %s: SQLite left %s-wal after closing the new job", path, name)
	}
	err = os.Link(name, path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// A file system without hard links: a rename, which replaces a
		// file created at path since the check just above, if any.
		if _, serr := os.Lstat(path); errors.Is(serr, fs.ErrNotExist) {
			err = os.Rename(name, path)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		// Another process creating the job removed the temporary file
		// before it was locked, taking it for one left by a killed
		// process: the creation is tried again.
		return errRetry
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return openError(path, err)
	}
	syncDir(dir)
	return nil
}

// initJob creates a new job's tables and stores its settings and key.
func initJob(ctx context.Context, db *sql.DB, settings []Setting) error {
	if err := initSchema(ctx, db); err != nil {
		return err
	}
	key := makeKey()
	stored, _ := jsonSettings(settings, key)
	_, err := db.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES('key', ?), ('settings', ?)", key, stored)
	return err
}

// removeStale removes the temporary files of job files that processes
// killed while creating them left in dir: those no process holds locked.
func removeStale(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + tempInfix
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || strings.ContainsRune(name[len(prefix):], '-') || !e.Type().IsRegular() {
			continue
		}
		full := filepath.Join(dir, name)
		f, err := os.OpenFile(full, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		err = lockfile.TryLock(f)
		f.Close()
		if err == nil {
			removeDB(full)
		}
	}
}

// removeDB removes a SQLite file and the files SQLite keeps beside it.
func removeDB(name string) {
	for _, suffix := range []string{"-wal", "-shm", "-journal", ""} {
		os.Remove(name + suffix)
	}
}

// rollbackJournal has SQLite roll back a hot journal left beside path by
// a process killed in a transaction of rollback mode (job files made by
// earlier releases could be left so while they were created): until it
// is rolled back, no read-only connection can read the file. It is called
// with the job's lock held.
func rollbackJournal(ctx context.Context, path string) error {
	if _, err := os.Stat(path + "-journal"); err != nil {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+escapePath(path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	var v int
	// Reading the schema checks for a hot journal and rolls it back.
	if err := db.QueryRowContext(ctx, "PRAGMA schema_version").Scan(&v); err != nil {
		return fmt.Errorf("%s: rolling back the transaction of %s-journal: %w", path, path, err)
	}
	return nil
}
