package main

import (
	"bytes"
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

// killJobRecords writes n JSONL records {"id": I}, I from 1 to n, for
// kill.yaml, whose steps request /a/I, /b/I and /c/I.
func killJobRecords(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"id":%d}`+"\n", i)
	}
	return writeTestFile(t, t.TempDir(), "in.jsonl", b.String())
}

// stepHits returns, for records 1 to n, how often the upstream received
// each of kill.yaml's step paths: hits[i] = {a, b, c} of record i.
func stepHits(srv *upstream.Server, n int) [][3]int64 {
	by := srv.Stats().ByPath
	hits := make([][3]int64, n+1)
	for i := 1; i <= n; i++ {
		for s, step := range []string{"a", "b", "c"} {
			hits[i][s] = by[fmt.Sprintf("/%s/%d", step, i)]
		}
	}
	return hits
}

// storedSet returns the lines with a result in the job file.
func storedSet(t *testing.T, jobFile string) map[int]bool {
	t.Helper()
	set := map[int]bool{}
	for _, r := range storedResults(t, jobFile) {
		set[r.Line] = true
	}
	return set
}

// checkFinishedKillJob checks a finished job of kill.yaml over n records:
// gather export gives exactly one line per record, in order, each ok with
// the output its steps made; every record's last step ran.
func checkFinishedKillJob(t *testing.T, srv *upstream.Server, jobFile string, n int) [][3]int64 {
	t.Helper()
	exp := gatherRaw(t, "export", jobFile)
	if exp.code != exitOK {
		t.Fatalf("gather export: exit %d: %s", exp.code, exp.stderr)
	}
	lines := parseFlowLines(t, []byte(exp.stdout))
	if len(lines) != n {
		t.Fatalf("gather export: %d lines for %d records", len(lines), n)
	}
	for i, l := range lines {
		want := fmt.Sprintf(`{"b":"/a/%d","c":200,"id":%d}`, i+1, i+1)
		if l.Line != i+1 || l.Error != nil || string(l.Output) != want {
			t.Fatalf("export line %d: %q, want record %d ok with output %s", i+1, l.raw, i+1, want)
		}
	}
	hits := stepHits(srv, n)
	for i := 1; i <= n; i++ {
		h := hits[i]
		if h[2] < 1 || h[0] < h[1] || h[1] < h[2] {
			t.Errorf("record %d: /a /b /c requested %v times; want each run to reach /c, and a >= b >= c", i, h)
		}
	}
	return hits
}

// A per-record flow job killed with SIGKILL at random moments, from the
// first milliseconds on, then run again with the same command until it
// finishes: one line per record, every record ok, and no step of a record
// stored before a kill ran again, and at each kill at most -c records
// had started and not reached their last step. Records not yet stored at
// a kill (in flight, or done in the job's unwritten batch) may run again.
func TestRunJobKilledResumesWithoutRerunningStoredRecords(t *testing.T) {
	const n, c = 300, 8
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := runFlowFile(t, "kill.yaml", srv.URL())
	in := killJobRecords(t, n)
	jobFile := filepath.Join(t.TempDir(), "run.db")
	args := []string{"run", flowPath, "--input", in, "--job", jobFile, "-c", fmt.Sprint(c), "-q"}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	// The first kills come a few milliseconds after the start (the job
	// file being created); the later ones once the run has stored records,
	// after a few more records' last steps and a random extra.
	delays := []time.Duration{0, 2 * time.Millisecond, 5 * time.Millisecond}
	const progressing = 5 // kills once records run
	// After each kill: the records stored then, and their step counts.
	type snapshot struct {
		stored map[int]bool
		hits   [][3]int64
	}
	var snaps []snapshot
	kills := 0
	finished := false
	kills0 := len(delays)
	for round := 0; round < kills0+progressing+10 && !finished; round++ {
		cmd := exec.Command(binary, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		exited := false
		// waitFor waits d or until the run ends by itself.
		waitFor := func(d time.Duration) {
			select {
			case err = <-done:
				exited = true
			case <-time.After(d):
			}
		}
		var killedAfter string
		switch {
		case round < kills0:
			waitFor(delays[round])
			killedAfter = delays[round].String()
		case round < kills0+progressing:
			start, more := time.Now(), requestsUnder(srv, "/c/")+10+rng.IntN(30)
			for !exited && requestsUnder(srv, "/c/") < more {
				if time.Since(start) > 30*time.Second {
					cmd.Process.Kill()
					<-done
					t.Fatalf("run %d: no record's last step in 30s", round)
				}
				waitFor(5 * time.Millisecond)
			}
			if !exited {
				waitFor(time.Duration(rng.IntN(300)) * time.Millisecond)
			}
			killedAfter = time.Since(start).Round(time.Millisecond).String()
		default:
			waitFor(60 * time.Second)
			if !exited {
				cmd.Process.Kill()
				<-done
				t.Fatalf("run %d: not finished in 60s", round)
			}
		}
		if !exited {
			cmd.Process.Signal(syscall.SIGKILL)
			err = <-done
		}
		var exit *exec.ExitError
		switch {
		case err == nil:
			finished = true
			t.Logf("run %d: finished", round)
			continue
		case !errors.As(err, &exit):
			t.Fatal(err)
		case exit.Sys().(syscall.WaitStatus).Signaled():
			kills++
		default:
			t.Fatalf("run %d: exit %d: %s", round, exit.ExitCode(), stderr.String())
		}
		// Requests the killed process sent may still be in the server's
		// hands: let them in before counting.
		time.Sleep(50 * time.Millisecond)
		waitUntil(t, "the upstream idle", 10*time.Second, func() bool { return srv.Stats().InFlight == 0 })
		s := snapshot{stored: map[int]bool{}, hits: stepHits(srv, n)}
		if _, err := os.Stat(jobFile); err == nil {
			s.stored = storedSet(t, jobFile) // a job killed at its creation must open too
		}
		// What this run did to the records not stored at its kill: started
		// and not at the last step (in flight: at most -c of them), or
		// past the last step (done, but in the job's unwritten batch).
		prev := make([][3]int64, n+1)
		if len(snaps) > 0 {
			prev = snaps[len(snaps)-1].hits
		}
		inFlight, unwritten := 0, 0
		for i := 1; i <= n; i++ {
			started, last := s.hits[i][0] > prev[i][0] || s.hits[i][1] > prev[i][1], s.hits[i][2] > prev[i][2]
			switch {
			case s.stored[i]:
			case last:
				unwritten++
			case started:
				inFlight++
			}
		}
		// A request of the run before, received only in this one, may add
		// at most -c records more.
		if inFlight > 2*c {
			t.Errorf("run %d: %d records started and not ended at the kill, -c %d", round, inFlight, c)
		}
		snaps = append(snaps, s)
		t.Logf("run %d: killed after %s with %d records stored; %d in flight, %d done and not yet stored", round, killedAfter, len(s.stored), inFlight, unwritten)
	}
	if !finished {
		t.Fatalf("the job did not finish after %d kills and 10 more runs", kills)
	}
	hits := checkFinishedKillJob(t, srv, jobFile, n)

	rerun := map[int]bool{}
	for i := 1; i <= n; i++ {
		if hits[i][0] > 1 || hits[i][1] > 1 || hits[i][2] > 1 {
			rerun[i] = true
		}
	}
	for k, s := range snaps {
		for line := range s.stored {
			if s.hits[line] != hits[line] {
				t.Errorf("record %d, stored before kill %d, ran again: its steps were requested %v times then, %v at the end",
					line, k+1, s.hits[line], hits[line])
			}
		}
	}
	// Not asserted: at most kills x -c records run again. A record done
	// but not yet written (the job writes in batches, every 200ms) runs
	// again too, and those are not bounded by -c.
	t.Logf("%d kills; %d records ran more than once (kills x -c = %d)", kills, len(rerun), kills*c)
}

// Ctrl-C (SIGINT) on a per-record flow job: exit 130 once the records in
// flight have ended and been stored; the same command then finishes the
// job, and no record ran twice (the grace period let every record in
// flight finish).
func TestRunJobCtrlCExits130AndResumes(t *testing.T) {
	const n = 300
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := runFlowFile(t, "kill.yaml", srv.URL())
	in := killJobRecords(t, n)
	jobFile := filepath.Join(t.TempDir(), "run.db")
	args := []string{"run", flowPath, "--input", in, "--job", jobFile, "-c", "8", "-q"}
	cmd := exec.Command(binary, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "30 records' last step", 30*time.Second, func() bool { return requestsUnder(srv, "/c/") >= 30 })
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("after Ctrl-C: %v, want exit %d; stderr:\n%s", err, exitInterrupted, stderr.String())
	}
	stored := storedSet(t, jobFile)
	at := stepHits(srv, n)
	if len(stored) == 0 || len(stored) == n {
		t.Fatalf("%d of %d records stored at Ctrl-C", len(stored), n)
	}
	for i := 1; i <= n; i++ {
		if (at[i][2] > 0) != stored[i] {
			t.Errorf("record %d: steps requested %v times, stored %v: a record whose last step ran should be stored, and only those", i, at[i], stored[i])
		}
	}
	res := gatherBinary(t, "", args...)
	if res.code != exitOK {
		t.Fatalf("the resumed run: exit %d: %s", res.code, res.stderr)
	}
	hits := checkFinishedKillJob(t, srv, jobFile, n)
	for i := 1; i <= n; i++ {
		if hits[i] != [3]int64{1, 1, 1} {
			t.Errorf("record %d: /a /b /c requested %v times, want once each", i, hits[i])
		}
	}
	t.Logf("%d records stored at Ctrl-C; the resumed run ran the other %d", len(stored), n-len(stored))
}
