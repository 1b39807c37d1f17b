package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// A full disk while standard input is open but quiet: the run should stop
// with exit 3, not wait for the next input line.
func TestJobFullDiskIdleStdin(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	lines := urlLines(srv, "/f/", 1000, "size=4000&latency=200ms")
	jobFile := filepath.Join(t.TempDir(), "crawl.db")
	cmd := exec.Command("prlimit", "--fsize=2097152", binary, "fetch", "-q", "-c", "2000", "--body", "text", "--job", jobFile, "-")
	stdin, _ := cmd.StdinPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdin.Write([]byte(lines)) // and the producer goes quiet
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		t.Logf("exit %d: %s", cmd.ProcessState.ExitCode(), stderr.String())
	case <-time.After(20 * time.Second):
		t.Errorf("still running 20s after the disk filled (%d requests served); stderr so far: %q", srv.Stats().Requests, stderr.String())
		stdin.Close()
		select {
		case <-done:
			t.Logf("after stdin closed: exit %d: %s", cmd.ProcessState.ExitCode(), stderr.String())
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
}

// tmpfs mounts a tmpfs of size bytes for the test, or skips it where
// mounting is not allowed (not root, no CAP_SYS_ADMIN).
func tmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// A job file on a read-only file system is a clear error (exit 3), and is
// left as it was.
func TestJobReadOnlyFileSystem(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := tmpfs(t, 4<<20)
	urls := filepath.Join(t.TempDir(), "urls.txt")
	os.WriteFile(urls, []byte(srv.URL()+"/a\n"+srv.URL()+"/b\n"), 0o644)
	jobFile := filepath.Join(dir, "crawl.db")
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, urls); res.code != 0 {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v %s", err, out)
	}
	before, _ := os.ReadFile(jobFile)
	res := gather(t, "", "fetch", "-q", "--job", jobFile, urls)
	after, _ := os.ReadFile(jobFile)
	if res.code != exitRuntime || !strings.Contains(res.stderr, "read-only") || strings.Count(res.stderr, "\n") != 1 {
		t.Errorf("read-only job file: exit %d, %q", res.code, res.stderr)
	}
	if !bytes.Equal(before, after) {
		t.Error("the job file changed")
	}
	t.Logf("%s", res.stderr)
}

// A job on a file system that fills up (a 4 MiB tmpfs, about a quarter of
// what 40,000 results take) stops with a clear error, keeps what it
// stored, and is still a job file.
func TestJobTmpfsFull(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := tmpfs(t, 4<<20)
	urls := writeTestFile(t, t.TempDir(), "urls.txt", urlLines(srv, "/t/", 40000, ""))
	jobFile := filepath.Join(dir, "crawl.db")
	res := gather(t, "", "fetch", "-q", "--job", jobFile, urls)
	if res.code != exitRuntime || !strings.Contains(res.stderr, "full") || strings.Contains(res.stderr, "goroutine") {
		t.Fatalf("full tmpfs: exit %d, %q", res.code, res.stderr)
	}
	stored := len(storedLines(t, jobFile))
	if stored == 0 || stored >= 40000 {
		t.Fatalf("%d results stored", stored)
	}
	t.Logf("%d results stored before the file system filled: %s", stored, res.stderr)
}
