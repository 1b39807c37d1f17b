//go:build unix

package job

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// holdEnv makes the test binary, run as a child, open the job file it
// names for a run, create "<file>.ready" and wait to be killed.
const holdEnv = "GATHER_JOB_HOLD"

func TestHelperHoldJob(t *testing.T) {
	path := os.Getenv(holdEnv)
	if path == "" {
		t.Skip("a helper: run as a child by TestKilledRunMarkedInterrupted")
	}
	if _, err := Open(context.Background(), path, testSettings, nil); err != nil {
		os.Exit(1)
	}
	os.WriteFile(path+".ready", nil, 0o644)
	time.Sleep(time.Hour)
}

func runStatuses(t *testing.T, path string) []string {
	t.Helper()
	db, err := openReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT status FROM runs ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

// A run whose process was killed (SIGKILL) stays "running" only until the
// job is opened again; while its process lives and holds the job, a
// second Open is refused and marks nothing.
func TestKilledRunMarkedInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldJob$")
	cmd.Env = append(os.Environ(), holdEnv+"="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	// However long the child takes to start: no timing decides the test.
	for {
		if _, err := os.Stat(path + ".ready"); err == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the child ended before it opened the job: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	ctx := context.Background()
	if _, err := Open(ctx, path, testSettings, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second Open while the first process lives: %v, want ErrLocked", err)
	}
	if got := runStatuses(t, path); len(got) != 1 || got[0] != "running" {
		t.Fatalf("runs while the first process lives: %v, want [running]", got)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err := <-exited
	exited <- err
	j, err := Open(ctx, path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := runStatuses(t, path); len(got) != 2 || got[0] != "interrupted" || got[1] != "running" {
		t.Errorf("runs after the kill, with a new run open: %v, want [interrupted running]", got)
	}
	j.Close()
	var ended sql.NullFloat64
	db, _ := openReadOnly(ctx, path)
	db.QueryRow("SELECT ended FROM runs WHERE id = 1").Scan(&ended)
	db.Close()
	if ended.Valid {
		t.Errorf("the killed run has an end time, %v: it is not known", ended.Float64)
	}
}
