//go:build unix

package job

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// createLoopEnv makes the test binary, run as a child, create job files
// in the directory it names, one after another, until it is killed.
const createLoopEnv = "GATHER_JOB_CREATE_LOOP"

func TestHelperCreateLoop(t *testing.T) {
	dir := os.Getenv(createLoopEnv)
	if dir == "" {
		t.Skip("a helper: run as a child by TestCreateSurvivesKillAtAnyInstant")
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		path := filepath.Join(dir, fmt.Sprintf("j%d.db", i))
		if i%2 == 1 {
			// An empty file, as touch leaves it: made a job in place.
			os.WriteFile(path, nil, 0o644)
		}
		j, err := Open(ctx, path, testSettings, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		j.Close()
	}
}

// A process killed (SIGKILL) at any instant while it creates a job file
// (at a new path, or in an empty file) leaves a path that opens: the job
// it was creating, whole, or no file at all, or an empty file. A child creates job files in a loop and is killed after a random
// time, many times; then every path it used, and the next, must open.
func TestCreateSurvivesKillAtAnyInstant(t *testing.T) {
	kills := 25
	if testing.Short() {
		kills = 8
	}
	ctx := context.Background()
	for k := range kills {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCreateLoop$")
		cmd.Env = append(os.Environ(), createLoopEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Wait for the first file, so that the kill lands in the loop,
		// then for a random part of a few creations. No timing decides
		// the test: only whether the files open after the kill.
	wait:
		for {
			if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) > 0 {
				break
			}
			select {
			case err := <-exited:
				t.Fatalf("the child ended before it was killed: %v: %s", err, stderr.String())
			case <-time.After(time.Millisecond):
				continue wait
			}
		}
		time.Sleep(time.Duration(rand.IntN(120_000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		if err := <-exited; cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("the child ended before it was killed: %v: %s", err, stderr.String())
		}
		if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) > 0 {
			var names []string
			for _, n := range m {
				fi, _ := os.Stat(n)
				names = append(names, fmt.Sprintf("%s:%d", filepath.Base(n), fi.Size()))
			}
			t.Logf("kill %d: %v", k, names[max(0, len(names)-4):])
		}
		for i := 0; ; i++ {
			path := filepath.Join(dir, fmt.Sprintf("j%d.db", i))
			_, statErr := os.Stat(path)
			j, err := Open(ctx, path, testSettings, nil)
			if err != nil {
				t.Fatalf("kill %d: after a kill, %s does not open: %v", k, filepath.Base(path), err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if statErr != nil {
				break // the path the child had not created yet, or was creating
			}
		}
		// The next creation in the directory removed what the killed
		// one left under a temporary name.
		if m, _ := filepath.Glob(filepath.Join(dir, ".*"+tempInfix+"*")); len(m) > 0 {
			t.Errorf("kill %d: temporary files left: %v", k, m)
		}
	}
}

// A new job file has the mode of any file the process creates with 0644
// (less the umask), although it is made under a temporary name.
func TestNewJobFileMode(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(context.Background(), filepath.Join(dir, "j.db"), testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	f, err := os.OpenFile(filepath.Join(dir, "plain"), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	want, _ := os.Stat(filepath.Join(dir, "plain"))
	got, _ := os.Stat(filepath.Join(dir, "j.db"))
	if got.Mode() != want.Mode() {
		t.Errorf("job file mode %v, want %v", got.Mode(), want.Mode())
	}
}
