package job

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// damagePages overwrites the header of every 5th page of the file at path
// past the first two (the b-tree pages of the results, mostly) with bytes
// no page starts with, and returns the file's new content.
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
	for off := 3 * page; off+page <= len(data); off += 5 * page {
		copy(data[off:off+8], "\xff\xee\xdd\xcc\xbb\xaa\x99\x88")
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// A job file damaged in its middle (the pages of its results, its schema
// whole) is refused by Open and OpenReadOnly with ErrDamaged, and left
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
	db, err := OpenReadOnly(ctx, path)
	if err == nil {
		db.Close()
		t.Fatal("OpenReadOnly accepted a damaged job file")
	}
	if !errors.Is(err, ErrDamaged) {
		t.Errorf("OpenReadOnly: %v; want ErrDamaged", err)
	}
	t.Log(err)
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Error("the damaged job file was changed")
	}
}
