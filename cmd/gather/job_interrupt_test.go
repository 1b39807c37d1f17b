package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/gogather/gather/job"
)

func jobMeta(t *testing.T, path, key string) string {
	t.Helper()
	m, err := readJob(t, path).Meta(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m.Values[key]
}

func waitUntil(t *testing.T, what string, d time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Ctrl-C while the input (a pipe) is mid-line: after the grace period the
// interruptible reader ends the input there; the half line must not be
// taken for a line (it once became the job's checkpoint, and later runs
// numbered every line after it one too high).
func TestJobCtrlCMidLineKeepsLineNumbers(t *testing.T) {
	const attempt = 0
	srv := upstreamtest.Start(t, upstream.Config{})
	const n = 1000
	var lines []string
	slow := fmt.Sprintf("/slow%d", attempt)
	for i := 1; i <= n; i++ {
		if i == 1 {
			lines = append(lines, srv.URL()+slow+"?latency=2s\n")
		} else {
			lines = append(lines, fmt.Sprintf("%s/p/%d\n", srv.URL(), i))
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "urls.txt")
	os.WriteFile(file, []byte(strings.Join(lines, "")), 0o644)
	jobFile := filepath.Join(dir, "crawl.db")

	// Run 1: everything but the slow line 1 is stored; Ctrl-C.
	cmd := exec.Command(binary, "fetch", "-q", "--job", jobFile, "--grace", "0s", file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "999 results", 20*time.Second, func() bool {
		if _, err := os.Stat(jobFile); err != nil {
			return false
		}
		r, err := job.OpenReader(context.Background(), jobFile)
		if err != nil {
			return false
		}
		defer r.Close()
		p, _ := r.Progress(context.Background())
		return p.Stored == int64(n-1)
	})
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	t.Logf("run 1: checkpoint %q", jobMeta(t, jobFile, "checkpoint"))

	// Run 2: standard input gives lines 1..511 and half of line 512, then
	// nothing more for now; Ctrl-C so that the grace period ends just
	// after line 1's result arrived.
	cmd = exec.Command(binary, "fetch", "-q", "--job", jobFile, "--grace", "1s", "-")
	stdin, _ := cmd.StdinPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	partial := strings.Join(lines[:511], "") + lines[511][:len(lines[511])/2]
	stdin.Write([]byte(partial))
	waitUntil(t, "the slow request", 10*time.Second, func() bool { return srv.Stats().ByPath[slow] >= 2 })
	time.Sleep(1030 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	stdin.Close()
	cp := jobMeta(t, jobFile, "checkpoint")
	t.Logf("run 2 (exit %d): checkpoint %s; line 512 ends at byte %d; %s", cmd.ProcessState.ExitCode(), cp, len(strings.Join(lines[:512], "")), stderr.String())
	// Run 3: the whole file.
	res := gather(t, "", "fetch", "-q", "--job", jobFile, file)
	stored := storedLines(t, jobFile)
	bad := 0
	for line, url := range stored {
		want := ""
		if line >= 1 && line <= n {
			want = strings.TrimSpace(lines[line-1])
		}
		if url != want {
			bad++
			if bad < 4 {
				t.Errorf("line %d holds %q, the input's line is %q", line, url, want)
			}
		}
	}
	if res.code != 0 || len(stored) != n || bad != 0 || jobMeta(t, jobFile, "total") != fmt.Sprint(n) {
		t.Fatalf("run 3: exit %d, %d results for %d lines, %d wrong; total %s; %s", res.code, len(stored), n, bad, jobMeta(t, jobFile, "total"), res.stderr)
	}
}

// After Ctrl-C no new request should start; with --per-host, inputs read
// ahead and waiting for their host's slot still start during --grace.
func TestJobNoNewRequestAfterCtrlC(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	file := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/g/", 40, "latency=300ms"))
	cmd := exec.Command(binary, "fetch", "-q", "--job", filepath.Join(dir, "j.db"), "-c", "8", "--per-host", "1", "--grace", "5s", file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a request", 10*time.Second, func() bool { return srv.Stats().Requests >= 1 })
	time.Sleep(50 * time.Millisecond)
	at := srv.Stats().Requests
	cmd.Process.Signal(syscall.SIGINT)
	start := time.Now()
	cmd.Wait()
	after := srv.Stats().Requests
	t.Logf("requests when Ctrl-C was sent: %d; at exit (%v later, exit %d): %d", at, time.Since(start).Round(time.Millisecond), cmd.ProcessState.ExitCode(), after)
	if after > at {
		t.Errorf("%d requests started after Ctrl-C", after-at)
	}
}

// A CSV job (BOM, multi-line rows, blank lines, bad rows) killed at random
// moments: each record's result under its own line, exactly once.
func TestJobCSVKilled(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	var b strings.Builder
	b.WriteString("\ufeffid,url,note\n")
	line := 2
	want := map[int]string{} // record's first line -> url ("" for bad)
	for i := 0; i < 6000; i++ {
		u := fmt.Sprintf("%s/c/%d?latency=10ms&jitter=20ms", srv.URL(), i)
		switch {
		case i%50 == 49:
			b.WriteString("\n") // a blank line: skipped, no result
			line++
			continue
		case i%97 == 5:
			fmt.Fprintf(&b, "%d,%s\n", i, u)
			want[line] = ""
			line++
			continue
		case i%7 == 3:
			fmt.Fprintf(&b, "%d,%s,\"two\nlines, \"\"quoted\"\"\"\n", i, u)
			want[line] = u
			line += 2
			continue
		}
		fmt.Fprintf(&b, "%d,%s,plain\n", i, u)
		want[line] = u
		line++
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "in.csv")
	os.WriteFile(file, []byte(b.String()), 0o644)
	jobFile := filepath.Join(dir, "j.db")
	for run := 0; run < 12; run++ {
		cmd := exec.Command(binary, "fetch", "-q", "--job", jobFile, "-c", "32", "--url", "${{ .url }}", file)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Start()
		if run < 11 {
			waitUntil(t, "the job file", time.Minute, func() bool { _, err := os.Stat(jobFile); return err == nil })
			time.Sleep(time.Duration(200+run*37%300) * time.Millisecond)
			if run%2 == 0 {
				cmd.Process.Signal(syscall.SIGKILL)
			} else {
				cmd.Process.Signal(syscall.SIGINT)
			}
		}
		cmd.Wait()
		if run == 11 && cmd.ProcessState.ExitCode() != exitSomeFailed {
			t.Fatalf("last run: exit %d: %s", cmd.ProcessState.ExitCode(), stderr.String())
		}
		t.Logf("run %d: checkpoint %s", run, jobMeta(t, jobFile, "checkpoint"))
	}
	stored := storedLines(t, jobFile)
	if len(stored) != len(want) {
		t.Errorf("%d results, %d records", len(stored), len(want))
	}
	wrong := 0
	for l, u := range want {
		got, ok := stored[l]
		if !ok || (u != "" && got != u) {
			wrong++
			if wrong < 5 {
				t.Errorf("line %d: got %q (%v), want %q", l, got, ok, u)
			}
		}
	}
	counts := srv.Stats().ByPath
	dup := 0
	for p, c := range counts {
		if c > 1 && strings.HasPrefix(p, "/c/") {
			dup++
		}
	}
	t.Logf("%d wrong; %d paths requested more than once (in flight at a kill); total %s", wrong, dup, jobMeta(t, jobFile, "total"))
}

// An input that ends early on its own (a CSV whose header is bad ends
// there) is read to its end: the job is done, not interrupted, whatever
// the file's size.
func TestJobEndsOnABadCSVHeader(t *testing.T) {
	var b strings.Builder
	b.WriteString("url,url\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "http://127.0.0.1:1/%d,x\n", i)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "in.csv")
	os.WriteFile(file, []byte(b.String()), 0o644)
	jobFile := filepath.Join(dir, "j.db")
	res := gather(t, "", "fetch", "--job", jobFile, file)
	if res.code != exitSomeFailed || strings.Contains(res.stderr, "resume") {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if total := jobMeta(t, jobFile, "total"); total != "1" {
		t.Fatalf("total %q, want 1 (the header's bad_input record)", total)
	}
}

// Ctrl-C with a quiet standard input and nothing in flight ends the run at
// once, not after the grace period.
func TestJobCtrlCQuietStdin(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	jobFile := filepath.Join(t.TempDir(), "crawl.db")
	cmd := exec.Command(binary, "fetch", "-q", "--job", jobFile, "--grace", "30s", "-")
	stdin, _ := cmd.StdinPipe()
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(stdin, "%s/q/1\n", srv.URL()) // and then nothing
	waitUntil(t, "the request", 10*time.Second, func() bool { return srv.Stats().Requests == 1 })
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("still running 10s after Ctrl-C, with nothing in flight")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d, want %d", code, exitInterrupted)
	}
	if len(storedLines(t, jobFile)) != 1 {
		t.Error("the finished result was not stored")
	}
	t.Logf("stopped %v after Ctrl-C", time.Since(start).Round(time.Millisecond))
}
