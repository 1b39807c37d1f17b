package samefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/samefile"
)

// An input known by its open file (standard input) rather than a path is
// compared by its FileInfo.
func TestCheckComparesAnInputsInfo(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "st.txt")
	os.WriteFile(in, []byte("x\n"), 0o644)
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	stdin := []samefile.Named{{Name: "standard input", Info: fi}}
	err = samefile.Check([]samefile.Named{{Name: "-o", Path: in}}, stdin)
	var se *samefile.Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "-o "+in+" is the same file as standard input") {
		t.Errorf("Check = %v, want -o %s is the same file as standard input", err, in)
	}
	other := filepath.Join(dir, "other")
	os.WriteFile(other, nil, 0o644)
	if err := samefile.Check([]samefile.Named{{Name: "-o", Path: other}}, stdin); err != nil {
		t.Errorf("Check(other) = %v, want nil", err)
	}
}
