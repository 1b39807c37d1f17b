package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
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

// An output that is the same file as the input, the job file or another
// output is a usage error before anything is opened for writing: the
// files are left exactly as they were.
func TestOutputNamingAnInputIsRefused(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	in := writeTestFile(t, dir, "in.txt", urlLines(srv, "/s/", 3, ""))
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	jobFile := filepath.Join(dir, "crawl.db")
	if res := runIn(t, "", "fetch", "-q", "--job", jobFile, in); res.code != 0 {
		t.Fatalf("making the job: exit %d: %s", res.code, res.stderr)
	}
	newJob := filepath.Join(dir, "new.db")
	before := map[string][]byte{}
	for _, p := range []string{in, jobFile} {
		before[p], _ = os.ReadFile(p)
	}
	requests := srv.Stats().Requests
	for _, args := range [][]string{
		{"fetch", in, "-o", in},
		{"fetch", in, "-o", filepath.Join(dir, ".", "sub", "..", "in.txt")},
		{"fetch", in, "-o", link},
		{"fetch", link, "--stats", in},
		{"fetch", in, "--format", "csv", "-o", in},
		{"fetch", in, "--job", jobFile, "-o", jobFile},
		{"fetch", in, "--job", jobFile, "--stats", jobFile},
		{"fetch", in, "--job", newJob, "-o", newJob},
		{"fetch", in, "--job", newJob, "--stats", newJob},
		{"fetch", in, "-o", filepath.Join(dir, "o"), "--stats", filepath.Join(dir, "o")},
		{"--cpuprofile", in, "fetch", in},
		{"--cpuprofile", jobFile, "fetch", "--job", jobFile, in},
	} {
		res := runIn(t, "", args...)
		if res.code != exitUsage || !strings.Contains(res.stderr, "would destroy it") || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want a usage error saying it would destroy it", args, res.code, res.stderr)
		}
	}
	for p, b := range before {
		if after, _ := os.ReadFile(p); !bytes.Equal(after, b) {
			t.Errorf("%s changed", p)
		}
	}
	for _, p := range []string{newJob, filepath.Join(dir, "o")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
	if n := srv.Stats().Requests; n != requests {
		t.Errorf("%d requests were sent by refused runs", n-requests)
	}
}

// checkOutput parses a JSONL output and fails unless every record is
// whole, no line appears twice, and lines are in input order; it returns
// the lines.
func checkOutput(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, r := range parseRecords(t, b) {
		if len(lines) > 0 && r.Line <= lines[len(lines)-1] {
			t.Fatalf("%s: line %d after line %d (twice, or out of order)", path, r.Line, lines[len(lines)-1])
		}
		lines = append(lines, r.Line)
	}
	return lines
}

// With --job and -o, after the last run the output holds every input's
// record exactly once, whatever happened before: kill -9 at random
// moments (the output is then whole, as the previous run left it), Ctrl-C
// and plain reruns.
func TestJobOutputExactlyOnceAcrossKills(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	const n = 3000
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/x/", n, "latency=5ms&jitter=10ms"))
	jobFile := filepath.Join(dir, "crawl.db")
	out := filepath.Join(dir, "out.jsonl")
	for run := 0; run < 8; run++ {
		cmd := exec.Command(binary, "fetch", "-q", "--job", jobFile, "-o", out, "-c", "16", urls)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		last := run == 7
		if !last {
			time.Sleep(time.Duration(300+rand.IntN(700)) * time.Millisecond)
			if run == 3 {
				cmd.Process.Signal(syscall.SIGINT)
			} else {
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		cmd.Wait()
		lines := checkOutput(t, out)
		stored := storedLines(t, jobFile)
		t.Logf("run %d: exit %d, %d records in -o, %d results stored", run, cmd.ProcessState.ExitCode(), len(lines), len(stored))
		if run == 3 && cmd.ProcessState.ExitCode() == exitInterrupted && len(lines) != len(stored) {
			t.Errorf("after Ctrl-C, -o holds %d records, the job %d results", len(lines), len(stored))
		}
		if last && (cmd.ProcessState.ExitCode() != 0 || len(lines) != n) {
			t.Fatalf("last run: exit %d, %d records in -o for %d inputs: %s", cmd.ProcessState.ExitCode(), len(lines), n, stderr.String())
		}
	}
	// A rerun of the finished job leaves the output whole; in CSV, it is
	// written in that format.
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, "-o", out, urls); res.code != 0 || len(checkOutput(t, out)) != n {
		t.Fatalf("rerun: exit %d, %s", res.code, res.stderr)
	}
	csvOut := filepath.Join(dir, "out.csv")
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, "-o", csvOut, "--format", "csv", "--fields", "line,status", urls); res.code != 0 {
		t.Fatalf("csv: exit %d, %s", res.code, res.stderr)
	}
	b, _ := os.ReadFile(csvOut)
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) != n+1 || strings.Join(rows[0], ",") != "line,status" || rows[n][0] != fmt.Sprint(n) {
		t.Fatalf("csv from the job: %d rows, %v", len(rows), err)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".out.*")); len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// A full disk (a file size limit) while writing -o: the output ends on a
// whole record and the error says so, exit 3.
func TestFullDiskOutputEndsOnAWholeRecord(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) is not installed; .ci/run installs it")
	}
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/d/", 2000, "size=700"))
	for _, format := range []string{"jsonl", "csv"} {
		out := filepath.Join(dir, "out."+format)
		cmd := exec.Command("prlimit", "--fsize=300000", binary, "fetch", "-q", "--body", "text", "--format", format, "-o", out, urls)
		if format == "csv" {
			cmd.Args = append(cmd.Args, "--fields", "line,url,body")
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitRuntime || !strings.Contains(stderr.String(), "ends on a whole record") || strings.Count(stderr.String(), "\n") != 1 {
			t.Fatalf("%s: %v, %q", format, err, stderr.String())
		}
		b, _ := os.ReadFile(out)
		if format == "jsonl" {
			if recs := parseRecords(t, b); len(recs) == 0 || !bytes.HasSuffix(b, []byte("\n")) {
				t.Fatalf("jsonl: %d records", len(recs))
			}
		} else {
			rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil || len(rows) < 2 {
				t.Fatalf("csv: %d rows: %v", len(rows), err)
			}
			for _, row := range rows[1:] {
				if len(row[2]) != 700 {
					t.Fatalf("csv: a row with a body of %d bytes", len(row[2]))
				}
			}
		}
		t.Logf("%s: %d bytes: %s", format, len(b), stderr.String())
	}
}

// A closed standard output (gather fetch | head -1) stops the run like
// Ctrl-C: no new requests, what finished is stored in the job, the run is
// marked, exit 3 with one line; never a silent death by SIGPIPE.
func TestClosedOutputStopsTheRun(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	const n = 3000
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/p/", n, "latency=20ms"))
	for _, withJob := range []bool{false, true} {
		jobFile := filepath.Join(dir, fmt.Sprintf("j%v.db", withJob))
		args := []string{"fetch", "-c", "8", urls}
		if withJob {
			args = append(args, "--job", jobFile)
			args = append(args, "-o", "-")
		}
		cmd := exec.Command(binary, args...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		first, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			t.Fatalf("no first record: %v", err)
		}
		stdout.Close() // as head -1 does
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !exit.Exited() || exit.ExitCode() != exitRuntime {
			t.Fatalf("job %v: %v (%v), want exit 3; stderr %q", withJob, err, cmd.ProcessState, stderr.String())
		}
		msg := stderr.String()
		if strings.Count(msg, "gather: the output was closed") != 1 {
			t.Errorf("job %v: stderr lacks one line on the closed output: %q", withJob, msg)
		}
		requests := srv.Stats().Requests
		if requests >= n*2 {
			t.Errorf("job %v: %d requests: the run went on", withJob, requests)
		}
		if withJob {
			stored := storedLines(t, jobFile)
			if len(stored) == 0 {
				t.Errorf("nothing stored")
			}
			if s := lastRunStatus(t, jobFile); s != "interrupted" {
				t.Errorf("the run is %q, want interrupted", s)
			}
			// The next run finishes the job.
			if res := gather(t, "", "fetch", "-q", "--job", jobFile, urls); res.code != 0 || len(storedLines(t, jobFile)) != n {
				t.Errorf("resumed: exit %d, %d stored: %s", res.code, len(storedLines(t, jobFile)), res.stderr)
			}
		}
		t.Logf("job %v: first record %d bytes; %d requests; stderr: %s", withJob, len(first), requests, msg)
	}
}

// lastRunStatus returns the status of the job's last run.
func lastRunStatus(t *testing.T, path string) string {
	t.Helper()
	runs, err := readJob(t, path).Runs(context.Background())
	if err != nil || len(runs) == 0 {
		t.Fatalf("runs %v: %v", runs, err)
	}
	return runs[len(runs)-1].Status
}
