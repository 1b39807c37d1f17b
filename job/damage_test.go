package job

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// damagePages overwrites the header of every 5th page of the middle third
// of the file at path (b-tree pages of the results, that opening a job
// does not read) with bytes no page starts with, and returns the file's
// new content.
func damagePages(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	if len(data) < 20*page {
		t.Fatalf("the job file has %d bytes: too small to damage its middle", len(data))
	}
	pages := len(data) / page
	for off := pages / 3 * page; off < 2*pages/3*page; off += 5 * page {
		copy(data[off:off+8], "\xff\xee\xdd\xcc\xbb\xaa\x99\x88")
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// A job file damaged in its middle (the pages of its results, its schema
// whole) is refused by Open and OpenReader with ErrDamaged, and left
// byte for byte as it is.
func TestDamagedFileRefusedAndLeftAsItIs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	file := writeLines(t, 5000)
	runLines(t, path, file, nil, 0, okResult)
	data := damagePages(t, path)
	ctx := context.Background()

	j, err := Open(ctx, path, testSettings, nil)
	if err == nil {
		j.Close()
		t.Fatal("Open accepted a damaged job file")
	}
	if !errors.Is(err, ErrDamaged) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Open: %v; want one line wrapping ErrDamaged", err)
	}
	db, err := openReadOnly(ctx, path)
	if err == nil {
		db.Close()
		t.Fatal("OpenReader accepted a damaged job file")
	}
	if !errors.Is(err, ErrDamaged) {
		t.Errorf("OpenReader: %v; want ErrDamaged", err)
	}
	t.Log(err)
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Error("the damaged job file was changed")
	}
}

// The check of a job whose last run did not end cleanly (its process was
// killed: a run still "running") is whole, whatever the budget of the
// check after a clean end.
func TestDamagedFileAfterAKillCheckedWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	file := writeLines(t, 5000)
	runLines(t, path, file, nil, 0, okResult)
	ctx := context.Background()
	j, err := Open(ctx, path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.closeFiles() // as a kill leaves it: the run "running"
	data := damagePages(t, path)
	defer func(b time.Duration) { verifyBudget = b }(verifyBudget)
	verifyBudget = time.Nanosecond
	if j, err := Open(ctx, path, testSettings, nil); !errors.Is(err, ErrDamaged) {
		if err == nil {
			j.Close()
		}
		t.Fatalf("Open after a kill, with no budget for the check after a clean end: %v, want ErrDamaged", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Error("the damaged job file was changed")
	}
}
