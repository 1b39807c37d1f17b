package samefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gogather/gather/internal/samefile"
)

func TestCheckFindsTheSameFileUnderEveryName(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	if err := os.WriteFile(in, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	hard := filepath.Join(dir, "hard")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	inputs := []samefile.Named{{Name: "the input", Path: in}}
	for _, out := range []string{in, link, hard, filepath.Join(dir, ".", "sub", "..", "in.txt")} {
		if out == filepath.Join(dir, ".", "sub", "..", "in.txt") {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
		}
		err := samefile.Check([]samefile.Named{{Name: "-o", Path: out}}, inputs)
		var se *samefile.Error
		if !errors.As(err, &se) {
			t.Errorf("Check(-o %s) = %v, want a *samefile.Error", out, err)
		}
	}
	other := filepath.Join(dir, "other")
	os.WriteFile(other, nil, 0o644)
	for _, out := range []string{other, filepath.Join(dir, "new"), "", "-"} {
		if err := samefile.Check([]samefile.Named{{Name: "-o", Path: out}}, inputs); err != nil {
			t.Errorf("Check(-o %q) = %v, want nil", out, err)
		}
	}
}

// A file that does not exist yet (a job the run will create) is compared
// by name, its directory's links followed.
func TestCheckComparesNewFilesByName(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "d")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "L")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	job := []samefile.Named{{Name: "--job", Path: filepath.Join(real, "new.db")}}
	for _, out := range []string{filepath.Join(real, "new.db"), filepath.Join(link, "new.db"), filepath.Join(real, ".", "new.db")} {
		if err := samefile.Check([]samefile.Named{{Name: "-o", Path: out}}, job); err == nil {
			t.Errorf("-o %s is not found to be the new job %s", out, job[0].Path)
		}
	}
	if err := samefile.Check([]samefile.Named{{Name: "-o", Path: filepath.Join(real, "other.db")}}, job); err != nil {
		t.Errorf("another new file: %v", err)
	}
}
