//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A job path that is neither a regular file nor a new path (a device, a
// FIFO, a directory) is a usage error of one line, before anything is
// created beside it; export and report refuse it too.
func TestJobPathNotARegularFileRefused(t *testing.T) {
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", "http://127.0.0.1:1/x\n")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	devBefore, _ := os.ReadDir("/dev")
	for _, path := range []string{"/dev/null", fifo, sub} {
		for _, args := range [][]string{
			{"fetch", "-q", "--job", path, urls},
			{"report", path},
			{"export", path},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			cmd := exec.CommandContext(ctx, binary, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			cancel()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			}
			if code != exitUsage || !strings.Contains(stderr.String(), "not a regular file") && !strings.Contains(stderr.String(), "a directory") &&
				!strings.Contains(stderr.String(), "a device") && !strings.Contains(stderr.String(), "FIFO") || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("%v: exit %d (%v), stderr %q; want exit 2 and one line saying what the path is", args, code, err, stderr.String())
			}
		}
	}
	for _, name := range []string{"/dev/null-journal", "/dev/null-wal", "/dev/null-shm", fifo + "-wal", fifo + "-journal", sub + "-wal"} {
		if _, err := os.Lstat(name); err == nil {
			t.Errorf("%s was created", name)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) > 0 {
		t.Errorf("files created beside the job paths: %v", m)
	}
	if devAfter, _ := os.ReadDir("/dev"); len(devAfter) > len(devBefore) {
		t.Errorf("/dev has %d entries, had %d", len(devAfter), len(devBefore))
	}
}
