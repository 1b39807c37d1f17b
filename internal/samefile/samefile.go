// Package samefile tells whether an output path names a file that gather
// also reads (an input, a job file), so that opening it for writing would
// destroy it. Files are compared by identity (device and inode on Unix,
// volume and file index on Windows, through os.SameFile) after following
// links, never by name: "in.txt", "./in.txt", a symbolic link to it and a
// hard link to it are all the same file.
package samefile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Named is a path with the name a user knows it by, such as the flag that
// gave it ("-o", "--job") or "the input".
//
// An input known by an open file rather than a path (standard input
// redirected from a file: gather fetch - < in.txt) has Info, its Stat, and
// may have no Path: it is compared by Info.
type Named struct {
	Name string
	Path string
	Info fs.FileInfo
}

// Check returns an error naming both paths when an output is the same
// file as one of the inputs: by identity (an input's Info when it has one)
// when both exist, and by name otherwise (made absolute, the directory's
// links followed: L/new.db is d/new.db when L links to d), so that a file
// the run creates later (a new job) is covered too. Empty paths and "-"
// (standard streams) are never the same as anything. An output that
// cannot be examined for another reason (permission) is not reported
// here: opening it will say why.
func Check(outputs, inputs []Named) error {
	for _, out := range outputs {
		if out.Path == "" || out.Path == "-" {
			continue
		}
		oi, oExists := stat(out.Path)
		for _, in := range inputs {
			ii, iExists := in.Info, in.Info != nil
			if !iExists {
				ii, iExists = stat(in.Path)
			}
			same := false
			switch {
			case oExists && iExists:
				same = os.SameFile(oi, ii)
			case in.Path != "" && in.Path != "-":
				same = sameName(out.Path, in.Path)
			}
			if same {
				return &Error{Output: out, Input: in}
			}
		}
	}
	return nil
}

// sameName reports whether two paths name the same file by their names.
func sameName(a, b string) bool {
	a, aerr := resolved(a)
	b, berr := resolved(b)
	return aerr == nil && berr == nil && a == b
}

// resolved is path made absolute, with its directory's links followed
// when the directory exists.
func resolved(path string) (string, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir, base := filepath.Split(path)
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(d, base), nil
	}
	return path, nil
}

// Error says that an output would overwrite an input.
type Error struct {
	Output, Input Named
}

func (e *Error) Error() string {
	if e.Input.Path == "" || e.Input.Path == "-" {
		return fmt.Sprintf("%s %s is the same file as %s: writing it would destroy it", e.Output.Name, e.Output.Path, e.Input.Name)
	}
	if e.Output.Path == e.Input.Path {
		return fmt.Sprintf("%s %s is also %s: writing it would destroy it", e.Output.Name, e.Output.Path, e.Input.Name)
	}
	return fmt.Sprintf("%s %s is the same file as %s %s: writing it would destroy it", e.Output.Name, e.Output.Path, e.Input.Name, e.Input.Path)
}

func stat(path string) (fs.FileInfo, bool) {
	if path == "" || path == "-" {
		return nil, false
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false
	}
	return fi, true
}
