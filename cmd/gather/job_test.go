package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// jobInput writes n URLs of srv, with latency and a fault mix: 404s,
// paths whose first request fails with a 503 or a reset (retried), and
// returns the file and each line's path.
func jobInput(t *testing.T, srv *upstream.Server, n int) (string, []string) {
	t.Helper()
	var b strings.Builder
	paths := make([]string, n+1)
	for i := 1; i <= n; i++ {
		paths[i] = fmt.Sprintf("/k/%d", i)
		q := "latency=15ms&jitter=20ms"
		switch i % 20 {
		case 3, 13:
			q += "&status=404"
		case 7:
			q += "&fail_first=1&status=503"
		case 11:
			q += "&fail_first=1&reset=1"
		}
		fmt.Fprintf(&b, "%s%s?%s\n", srv.URL(), paths[i], q)
	}
	file := filepath.Join(t.TempDir(), "urls.txt")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, paths
}

// storedLines returns the lines with a result in the job file, and the URL
// of each.
func storedLines(t *testing.T, path string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, res := range storedResults(t, path) {
		var rec struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(res.Record, &rec); err != nil {
			t.Fatal(err)
		}
		out[res.Line] = rec.URL
	}
	return out
}

// interruptedJob runs `gather fetch --job` over n inputs, interrupting it
// with sig after a random time, `times` times, then lets a last run
// finish, and checks that the job holds exactly one result per input, the
// right one, and that no input whose result was stored was requested again
// by a later run.
func interruptedJob(t *testing.T, n, times int, sig syscall.Signal) {
	srv := upstreamtest.Start(t, upstream.Config{})
	file, paths := jobInput(t, srv, n)
	jobFile := filepath.Join(t.TempDir(), "crawl.db")
	type snapshot struct {
		stored map[int]string
		counts map[string]int64
	}
	var snaps []snapshot
	interrupted := 0
	for run := 0; ; run++ {
		cmd := exec.Command(binary, "fetch", "--job", jobFile, "-c", "64", "--grace", "5s", file)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		last := interrupted == times
		if !last {
			// The signal is meant for a run that has begun (a loaded
			// machine can take longer than the sleep to start one).
			waitUntil(t, "the job file", time.Minute, func() bool { _, err := os.Stat(jobFile); return err == nil })
			time.Sleep(time.Duration(150+rand.IntN(500)) * time.Millisecond)
			cmd.Process.Signal(sig)
		}
		err := cmd.Wait()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
			if !exit.Exited() {
				code = -1 // killed
			}
		}
		switch {
		case last && code != 0 && code != exitSomeFailed:
			t.Fatalf("the last run exited %d: %s", code, stderr.String())
		case !last && sig == syscall.SIGINT && code != exitInterrupted && code != 0 && code != exitSomeFailed:
			t.Fatalf("run %d: exit %d after SIGINT: %s", run, code, stderr.String())
		case !last && sig == syscall.SIGINT && code == exitInterrupted && !strings.Contains(stderr.String(), "run the same command again to resume"):
			t.Fatalf("run %d: no word on resuming: %s", run, stderr.String())
		}
		if last {
			break
		}
		interrupted++
		snaps = append(snaps, snapshot{storedLines(t, jobFile), srv.Stats().ByPath})
	}
	final := storedLines(t, jobFile)
	if len(final) != n {
		t.Fatalf("%d results stored for %d inputs", len(final), n)
	}
	for line := 1; line <= n; line++ {
		if !strings.Contains(final[line], paths[line]+"?") {
			t.Fatalf("line %d holds the result of %s", line, final[line])
		}
	}
	counts := srv.Stats().ByPath
	requestedAgain := 0
	for i, s := range snaps {
		for line := range s.stored {
			if counts[paths[line]] != s.counts[paths[line]] {
				requestedAgain++
				if requestedAgain < 5 {
					t.Errorf("line %d was stored by interruption %d, yet requested again later (%d, then %d requests)", line, i+1, s.counts[paths[line]], counts[paths[line]])
				}
			}
		}
	}
	if requestedAgain > 0 {
		t.Fatalf("%d stored inputs were requested again", requestedAgain)
	}
	var extra int64
	for line := 1; line <= n; line++ {
		extra += counts[paths[line]] - 1
	}
	t.Logf("%d interruptions by %v, %d runs; %d requests beyond one per input (retries and inputs in flight at an interruption)", interrupted, sig, interrupted+1, extra)
}

// At least 20 kill -9 at random moments of a 20,000-input job with
// latency and faults: every input has exactly one result, and none that
// was stored is fetched again.
func TestJobSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20,000-input job killed 20 times")
	}
	interruptedJob(t, 20000, 20, syscall.SIGKILL)
}

// The same with Ctrl-C: each run stops gracefully, says how to resume, and
// exits 130.
func TestJobSurvivesSIGINT(t *testing.T) {
	interruptedJob(t, 5000, 5, syscall.SIGINT)
}

// A job refuses what would corrupt it or mix results: a file that is not
// a job (left untouched), other settings, another input, a second process.
func TestJobRefusals(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	lines := urlLines(srv, "/r/", 200, "")
	urls := writeTestFile(t, dir, "urls.txt", lines)

	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("my precious notes, not a database\n"), 0o644)
	other := filepath.Join(dir, "other.db")
	writeForeignDB(t, other)
	for _, p := range []string{text, other} {
		before, _ := os.ReadFile(p)
		res := gather(t, "", "fetch", "-q", "--job", p, urls)
		after, _ := os.ReadFile(p)
		if res.code != exitUsage || !strings.Contains(res.stderr, "not a gather job file") || !bytes.Equal(before, after) {
			t.Errorf("--job %s: exit %d, %q, file changed: %v", filepath.Base(p), res.code, res.stderr, !bytes.Equal(before, after))
		}
	}

	jobFile := filepath.Join(dir, "crawl.db")
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, urls); res.code != 0 || len(res.records) != 0 {
		t.Fatalf("first run: exit %d, %d records on stdout: %s", res.code, len(res.records), res.stderr)
	}
	res := gather(t, "", "fetch", "-q", "--job", jobFile, "-X", "HEAD", urls)
	if res.code != exitUsage || !strings.Contains(res.stderr, `--method was "GET", this run has "HEAD"`) {
		t.Errorf("other method: exit %d, %q", res.code, res.stderr)
	}
	// Pace may change.
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, "-c", "3", "--rate", "1000", urls); res.code != 0 {
		t.Errorf("other concurrency: exit %d, %q", res.code, res.stderr)
	}
	changed := filepath.Join(dir, "changed.txt")
	os.WriteFile(changed, []byte(strings.Replace(lines, "/r/5\n", "/r/five\n", 1)), 0o644)
	res = gather(t, "", "fetch", "-q", "--job", jobFile, changed)
	if res.code != exitUsage || !strings.Contains(res.stderr, "the input is not the job's") {
		t.Errorf("changed input: exit %d, %q", res.code, res.stderr)
	}

	// A run holds the job: a second process is refused while it runs.
	hang := filepath.Join(dir, "hang.txt")
	os.WriteFile(hang, []byte(srv.URL()+"/hang?hang=1\n"), 0o644)
	held := filepath.Join(dir, "held.db")
	cmd := exec.Command(binary, "fetch", "-q", "--job", held, hang)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for srv.Stats().ByPath["/hang"] == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	res = gather(t, "", "fetch", "-q", "--job", held, hang)
	if res.code != exitRuntime || !strings.Contains(res.stderr, "in use by another gather process") {
		t.Errorf("second process: exit %d, %q", res.code, res.stderr)
	}
}

// A job whose file cannot grow (a file size limit standing in for a full
// disk) stops with a clear error, keeps what it stored, and finishes when
// run again with room.
func TestJobFullDisk(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is not installed; .ci/run installs it")
	}
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	const n = 20000
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/f/", n, "size=100"))
	jobFile := filepath.Join(dir, "crawl.db")
	// 2 MiB: room for the first batches of results (at most 4,096 each),
	// not for 20,000.
	cmd := exec.Command("prlimit", "--fsize=2097152", binary, "fetch", "-q", "--job", jobFile, urls)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitRuntime || !strings.Contains(stderr.String(), "disk is full") || strings.Contains(stderr.String(), "goroutine") {
		t.Fatalf("with a file size limit: %v, %q", err, stderr.String())
	}
	stored := len(storedLines(t, jobFile))
	if stored == 0 || stored >= n {
		t.Fatalf("%d results stored before the limit; want some", stored)
	}
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, urls); res.code != 0 {
		t.Fatalf("resumed with room: exit %d, %q", res.code, res.stderr)
	}
	if stored := len(storedLines(t, jobFile)); stored != n {
		t.Fatalf("%d results after the resumed run", stored)
	}
}

// --retry-failed runs the failures again (here by status), the successes
// not, and the job keeps the earlier results in its history.
func TestJobRetryFailed(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	urls := filepath.Join(dir, "urls.txt")
	var b strings.Builder
	for i := range 300 {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "%s/ok/%d\n", srv.URL(), i)
		case 1: // fails twice with a 500 (not retried), then succeeds
			fmt.Fprintf(&b, "%s/flaky/%d?fail_first=2&status=500\n", srv.URL(), i)
		case 2:
			fmt.Fprintf(&b, "%s/gone/%d?status=404\n", srv.URL(), i)
		}
	}
	os.WriteFile(urls, []byte(b.String()), 0o644)
	jobFile := filepath.Join(dir, "crawl.db")
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, urls); res.code != exitSomeFailed {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	res := gather(t, "", "fetch", "-q", "--job", jobFile, "--retry-failed=5xx", urls)
	if res.code != exitSomeFailed { // the 404s remain
		t.Fatalf("retry 5xx: exit %d, %s", res.code, res.stderr)
	}
	res = gather(t, "", "fetch", "-q", "--job", jobFile, "--retry-failed=500", urls)
	stats := srv.Stats().ByPath
	for i := range 300 {
		var path string
		var want int64
		switch i % 3 {
		case 0:
			path, want = fmt.Sprintf("/ok/%d", i), 1
		case 1:
			path, want = fmt.Sprintf("/flaky/%d", i), 3
		case 2:
			path, want = fmt.Sprintf("/gone/%d", i), 1
		}
		if stats[path] != want {
			t.Fatalf("%s requested %d times, want %d", path, stats[path], want)
		}
	}
	snap, err := readJob(t, jobFile).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tot, err := snap.Totals(context.Background())
	snap.Close()
	if err != nil {
		t.Fatal(err)
	}
	failed, history := tot.Stored-tot.OK, tot.Superseded
	if failed != 100 || history != 200 {
		t.Fatalf("%d failed (want the 100 404s), %d in history (want 2 x 100)", failed, history)
	}
	if res := gather(t, "", "fetch", "-q", "--retry-failed", urls); res.code != exitUsage {
		t.Errorf("--retry-failed without --job: exit %d", res.code)
	}
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, "--retry-failed=nope", urls); res.code != exitUsage || !strings.Contains(res.stderr, "nope") {
		t.Errorf("bad filter: exit %d, %q", res.code, res.stderr)
	}
}

// A damaged job file is a clear error, not a crash, and is not written to.
func TestJobCorruptedFile(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/c/", 2000, ""))
	jobFile := filepath.Join(dir, "crawl.db")
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, urls); res.code != 0 {
		t.Fatalf("first run: exit %d, %s", res.code, res.stderr)
	}
	// Garble the schema page, after the 100-byte file header.
	data, err := os.ReadFile(jobFile)
	if err != nil {
		t.Fatal(err)
	}
	for i := 100; i < 4096 && i < len(data); i++ {
		data[i] ^= 0x5a
	}
	os.WriteFile(jobFile, data, 0o644)
	res := gather(t, "", "fetch", "-q", "--job", jobFile, urls)
	after, _ := os.ReadFile(jobFile)
	if res.code == 0 || !strings.HasPrefix(res.stderr, "gather: --job: ") || strings.Contains(res.stderr, "goroutine") || strings.Count(res.stderr, "\n") != 1 {
		t.Errorf("damaged job: exit %d, %q", res.code, res.stderr)
	}
	if !bytes.Equal(data, after) {
		t.Error("the damaged job file was written to")
	}
	t.Logf("%s", res.stderr)
}

// With requests that hang, a first Ctrl-C waits out the grace period; a
// second stops them at once. Nothing cancelled is stored, and the next run
// fetches those inputs.
func TestJobSecondCtrlCStopsAtOnce(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/quick/", 100, "")+urlLines(srv, "/slow/", 8, "latency=1h"))
	jobFile := filepath.Join(dir, "crawl.db")
	cmd := exec.Command(binary, "fetch", "--job", jobFile, "--grace", "1m", "-c", "16", urls)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the 8 slow requests", 20*time.Second, func() bool { return requestsUnder(srv, "/slow/") == 8 })
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v: %s", err, stderr.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the second Ctrl-C took %v to stop the run", d)
	}
	stored := storedLines(t, jobFile)
	if len(stored) != 100 {
		t.Fatalf("%d results stored; want the 100 quick ones, none of the cancelled", len(stored))
	}
	// The next run fetches the 8 slow inputs (timing out now), and only them.
	res := gather(t, "", "fetch", "-q", "--job", jobFile, "--timeout", "300ms", "--retries", "0", urls)
	if res.code != exitSomeFailed || len(storedLines(t, jobFile)) != 108 {
		t.Fatalf("resumed: exit %d, %d stored, %s", res.code, len(storedLines(t, jobFile)), res.stderr)
	}
	for path, c := range srv.Stats().ByPath {
		if want := map[bool]int64{true: 2, false: 1}[strings.HasPrefix(path, "/slow/")]; c != want {
			t.Errorf("%s requested %d times, want %d", path, c, want)
		}
	}
}

// urlLines returns n lines of URLs of srv, path prefix followed by 0 to
// n-1, each with query when not empty.
func urlLines(srv *upstream.Server, prefix string, n int, query string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s%s%d", srv.URL(), prefix, i)
		if query != "" {
			b.WriteString("?" + query)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// writeTestFile writes content to dir/name and returns its path.
func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// requestsUnder counts the requests srv received for paths starting with
// prefix.
func requestsUnder(srv *upstream.Server, prefix string) int {
	n := 0
	for path, c := range srv.Stats().ByPath {
		if strings.HasPrefix(path, prefix) {
			n += int(c)
		}
	}
	return n
}

// Running a finished job again says that every input is stored already,
// with the job's totals, not a summary of nothing ("0 records ... p50
// 0.0", an empty "status:" line, "skipped 0 stored before").
func TestFinishedJobRerunSaysSo(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/ok/", 8, "")+urlLines(srv, "/gone/", 2, "status=404"))
	jobFile := filepath.Join(dir, "crawl.db")
	if res := runIn(t, "", "fetch", "--job", jobFile, urls); res.code != exitSomeFailed {
		t.Fatalf("first run: exit %d: %s", res.code, res.stderr)
	}
	res := runIn(t, "", "fetch", "--job", jobFile, urls)
	if res.code != exitSomeFailed {
		t.Errorf("rerun: exit %d, want the job's (1)", res.code)
	}
	for _, bad := range []string{"0 records", "p50 0.0", "status: \n", "skipped 0"} {
		if strings.Contains(res.stderr, bad) {
			t.Errorf("rerun's stderr has %q:\n%s", bad, res.stderr)
		}
	}
	if !strings.Contains(res.stderr, "all 10 inputs are already stored: 8 ok, 2 failed") {
		t.Errorf("rerun's stderr:\n%s", res.stderr)
	}
}

// A run the job refuses (another input, a retry of successes) leaves -o
// as it was: nothing was fetched, and -o is rewritten from the job only
// after a run that started.
func TestRefusedJobRunLeavesOutputAlone(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/r/", 3, ""))
	other := writeTestFile(t, dir, "other.txt", urlLines(srv, "/o/", 3, ""))
	jobFile, out := filepath.Join(dir, "j.gather"), filepath.Join(dir, "out.jsonl")
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, "-o", out, urls); res.code != exitOK {
		t.Fatalf("first run: exit %d: %s", res.code, res.stderr)
	}
	for _, args := range [][]string{
		{"fetch", "-q", "--job", jobFile, "-o", out, other},
		{"fetch", "-q", "--job", jobFile, "-o", out, "--retry-failed=ok", urls},
	} {
		os.WriteFile(out, []byte("precious\n"), 0o644)
		res := gather(t, "", args...)
		if res.code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, res.code, exitUsage, res.stderr)
		}
		if b, _ := os.ReadFile(out); string(b) != "precious\n" {
			t.Errorf("%v: -o rewritten: %q", args, b)
		}
	}
}
