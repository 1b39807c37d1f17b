package fetch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// RemovePartFiles removes the temporary files a killed body writer left,
// and only them: names the body writer makes, regular files.
func TestRemovePartFiles(t *testing.T) {
	dir := t.TempDir()
	// Files as the body writer names them.
	var parts []string
	for range 3 {
		f, err := os.CreateTemp(dir, partPattern)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		parts = append(parts, filepath.Base(f.Name()))
	}
	keep := []string{"7.body", ".part-", ".part-12a", "x.part-1", ".part-1.body", "part-1", ".Part-1"}
	for _, name := range keep {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, ".part-99"), 0o755); err != nil { // a directory: kept
		t.Fatal(err)
	}
	keep = append(keep, ".part-99")
	n, err := RemovePartFiles(dir)
	if err != nil || n != len(parts) {
		t.Fatalf("removed %d (%v), want %d", n, err, len(parts))
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	slices.Sort(left)
	slices.Sort(keep)
	if !slices.Equal(left, keep) {
		t.Fatalf("left %v, want %v", left, keep)
	}
	if _, err := RemovePartFiles(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a missing directory")
	}
}
