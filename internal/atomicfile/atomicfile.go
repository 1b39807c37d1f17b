// Package atomicfile writes a file whole or not at all: under a temporary
// name beside it, synced, then renamed over it. A kill at any moment
// leaves the file as it was (or absent), never half written; only a
// temporary file (.NAME.gather-DIGITS.tmp) may be left, which the next
// write of the same file removes.
package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Write writes the file at path through write.
//
// A symbolic link is followed: the file it points to is written and the
// link stays. A path that exists and is not a regular file (a FIFO,
// /dev/stdout) is written in place. Otherwise write writes a temporary
// file in the same directory, with the mode of the file it replaces (0644
// for a new one); it is synced, renamed to the file and the directory
// synced where the system allows. Temporary files that an earlier write
// of the same file left (killed half-way) are removed first; those of
// other files are not.
//
// It returns write's error as it is, or the first error of creating,
// writing, syncing, closing or renaming, naming path rather than the
// temporary file. After an error the file is as it was and the temporary
// file is removed.
func Write(path string, write func(io.Writer) error) error {
	target := path
	if p, err := filepath.EvalSymlinks(path); err == nil {
		target = p
	}
	mode := fs.FileMode(0o644)
	fi, err := os.Stat(target)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return writeInPlace(target, write)
	case err == nil:
		mode = fi.Mode().Perm()
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	removeStale(dir, base)
	// CreateTemp replaces the last "*": the one after base, whatever base
	// holds.
	f, err := os.CreateTemp(dir, prefix(base)+"*"+suffix)
	if err != nil {
		return named(err, path, "")
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, target)
	}
	if err != nil {
		os.Remove(tmp)
		return named(err, path, tmp)
	}
	syncDir(dir)
	return nil
}

const suffix = ".tmp"

// prefix starts the names of base's temporary files.
func prefix(base string) string { return "." + base + ".gather-" }

// removeStale removes base's temporary files in dir: names that are the
// prefix, digits (what CreateTemp puts for "*") and the suffix, compared
// literally (a name such as out[1].jsonl is no pattern).
func removeStale(dir, base string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	p := prefix(base)
	for _, e := range ents {
		name := e.Name()
		mid, ok := strings.CutPrefix(name, p)
		if !ok {
			continue
		}
		mid, ok = strings.CutSuffix(mid, suffix)
		if !ok || mid == "" || strings.Trim(mid, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		os.Remove(filepath.Join(dir, name)) // left by a write killed half-way
	}
}

// syncDir syncs a directory, so that a rename in it lasts; where a
// directory cannot be synced (Windows), nothing is done.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// writeInPlace creates (or truncates) path and writes it through write.
func writeInPlace(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// named makes an error of an operation on the temporary file tmp (or in
// its directory) name path, the file the user gave.
func named(err error, path, tmp string) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe) && (pe.Path == tmp || tmp == "" && strings.Contains(filepath.Base(pe.Path), ".gather-")):
		pe.Path = path
	case errors.As(err, &le) && le.Old == tmp:
		return &fs.PathError{Op: le.Op, Path: path, Err: le.Err}
	}
	return err
}
