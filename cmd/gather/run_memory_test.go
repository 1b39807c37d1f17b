//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// lineCounter counts the lines written to it.
type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// peakRSS runs the built binary with args and returns its peak resident
// set (getrusage's ru_maxrss, KiB on Linux), the lines it wrote to
// standard output and how long it took; it fails the test unless the run
// exits 0.
func peakRSS(t *testing.T, args ...string) (kib int64, lines int, took time.Duration) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out lineCounter
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("gather %v: %v: %s", args, err, stderr.String())
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss, out.n, time.Since(start)
}

// A per-record run keeps its memory bounded by what is in flight, not by
// the records done: the peak RSS over 50,000 records is about that over
// 5,000, to standard output and with a job writing -o from it at the end.
// The binary and the upstream are processes of their own, so the race
// detector of the test binary slows neither.
func TestRunPerRecordMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("55,000 records, twice")
	}
	base := startUpstreamProcess(t)
	flowPath := runFlowFile(t, "trivial.yaml", base)
	dir := t.TempDir()
	inputs := map[int]string{}
	for _, n := range []int{5_000, 50_000} {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, `{"id":%d}`+"\n", i)
		}
		inputs[n] = writeTestFile(t, dir, fmt.Sprintf("in%d.jsonl", n), b.String())
	}
	for _, withJob := range []bool{false, true} {
		peak := map[int]int64{}
		for _, n := range []int{5_000, 50_000} {
			args := []string{"run", flowPath, "--input", inputs[n], "-c", "50", "-q"}
			out := ""
			if withJob {
				out = filepath.Join(dir, fmt.Sprintf("out%d.jsonl", n))
				args = append(args, "--job", filepath.Join(dir, fmt.Sprintf("j%d.db", n)), "-o", out)
			}
			kib, lines, took := peakRSS(t, args...)
			if out != "" {
				written, err := countFileLines(context.Background(), out)
				if err != nil {
					t.Fatal(err)
				}
				lines = int(written)
			}
			if lines != n {
				t.Fatalf("job %v: %d output lines for %d records", withJob, lines, n)
			}
			peak[n] = kib
			t.Logf("job %v: %d records in %v: peak RSS %.1f MiB", withJob, n, took.Round(time.Millisecond), float64(kib)/1024)
		}
		ratio := float64(peak[50_000]) / float64(peak[5_000])
		t.Logf("job %v: peak RSS over 50,000 records / over 5,000: %.2f", withJob, ratio)
		if ratio >= 2 {
			t.Errorf("job %v: peak RSS %d KiB over 50,000 records, %d KiB over 5,000 (%.2fx): memory grows with the records done",
				withJob, peak[50_000], peak[5_000], ratio)
		}
	}
}
