package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// A run killed with -9 is shown by gather report as killed at once, not
// as running since its start until another fetch opens the job; a run in
// progress is shown as running.
func TestReportShowsAKilledRunAsKilled(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	var b strings.Builder
	for i := range 50 {
		b.WriteString(srv.URL() + "/k/" + string(rune('a'+i%26)) + "?latency=1s\n")
	}
	file := writeTestFile(t, dir, "urls.txt", b.String())
	jobFile := filepath.Join(dir, "k.db")
	cmd := exec.Command(binary, "fetch", "-q", "-c", "2", "--job", jobFile, file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitUntil(t, "the run's first request", 20*time.Second, func() bool { return srv.Stats().Requests > 0 })

	res := gatherRaw(t, "report", jobFile)
	if res.code != 0 || !strings.Contains(res.stdout, "#1 running, since") {
		t.Fatalf("while the run goes on: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	res = gatherRaw(t, "report", jobFile)
	if res.code != 0 || !strings.Contains(res.stdout, "#1 interrupted, from") || !strings.Contains(res.stdout, "killed") {
		t.Fatalf("after kill -9: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
