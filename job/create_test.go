package job

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A new job path in a directory that does not exist is one clear error
// naming the job, not the temporary file it would be made under.
func TestCreateInAMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "j.db")
	_, err := Open(context.Background(), path, testSettings, nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), tempInfix) {
		t.Fatalf("Open in a missing directory: %v", err)
	}
}

// A kill between Init's commit and the settings' insert (two transactions)
// leaves a job file no run can open.
func TestKilledWhileCreatingTheJob(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	db, err := openWrite(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := initSchema(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	db.Close() // the process dies here
	j, err := Open(context.Background(), path, testSettings, nil)
	if err != nil {
		t.Fatalf("the job can never be opened again: %v", err)
	}
	j.Close()
}
