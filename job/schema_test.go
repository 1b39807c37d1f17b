package job

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestInitThenopenReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	db, err := openWrite(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := initSchema(ctx, db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := openReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var mode string
	if err := ro.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q, %v; want wal", mode, err)
	}
}

func TestOpenReaderRefusesForeignFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	text := filepath.Join(dir, "text.db")
	os.WriteFile(text, []byte("these are not the bytes of a SQLite database, not at all\n"), 0o644)
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t(x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o644)
	for _, p := range []string{text, other, empty} {
		before, _ := os.ReadFile(p)
		_, err := openReadOnly(ctx, p)
		if !errors.Is(err, ErrNotJob) {
			t.Errorf("%s: %v, want ErrNotJob", filepath.Base(p), err)
		}
		after, _ := os.ReadFile(p)
		if string(before) != string(after) {
			t.Errorf("%s was changed", filepath.Base(p))
		}
	}
}
