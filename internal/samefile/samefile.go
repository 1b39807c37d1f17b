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
// file as one of the inputs (by its Info when it has one). Outputs or inputs that do not exist yet, and
// empty paths or "-" (standard streams), are never the same as anything.
// An output that cannot be examined for another reason (permission) is
// not reported here: opening it will say why.
func Check(outputs, inputs []Named) error {
	for _, out := range outputs {
		oi, ok := stat(out.Path)
		if !ok {
			continue
		}
		for _, in := range inputs {
			ii, ok := in.Info, in.Info != nil
			if !ok {
				ii, ok = stat(in.Path)
			}
			if ok && os.SameFile(oi, ii) {
				return &Error{Output: out, Input: in}
			}
		}
	}
	return nil
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
