package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/gogather/gather/report"
)

// A job file made by gather at commit 1ac067a (job/testdata/v1job: schema
// 1, interrupted with 22 of 30 inputs stored) is exported and reported as
// it is, and the same command resumes it with today's gather, against a
// server on the address the job was made against (the test is skipped when
// another process holds that port): every input then has exactly one
// result, and export and report read the whole job.
func TestJobOfAnEarlierReleaseExportsReportsAndResumes(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"old.db", "input.jsonl"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "job", "testdata", "v1job", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	jobFile, inFile := filepath.Join(dir, "old.db"), filepath.Join(dir, "input.jsonl")

	res := gather(t, "", "export", jobFile)
	if res.code != 0 || len(res.records) != 22 {
		t.Fatalf("export of the old job: exit %d, %d records; stderr %s", res.code, len(res.records), res.stderr)
	}
	if r := reportJSON(t, jobFile); r.Stored != 22 || r.Total != nil || r.Failed == 0 || len(r.ErrorKinds) == 0 {
		t.Fatalf("report of the old job: %+v", r)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:47311")
	if err != nil { // the export and report above ran; only the resume needs the port
		t.Skipf("the job's server address is taken, the resume is not tested: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret-token" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "{\"path\":%q}\n", r.URL.Path)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	res = gather(t, "", "fetch", "-q", inFile, "--job", jobFile, "--url", "http://127.0.0.1:47311/items/${{ .id }}",
		"-H", "Authorization: Bearer s3cret-token", "-H", "X-Item: ${{ .name }}", "--keep", "name", "-c", "4", "--retries", "0")
	if res.code != 1 { // the failures stored by the first run stay failed
		t.Fatalf("resuming: exit %d, stderr %s", res.code, res.stderr)
	}
	res = gather(t, "", "export", jobFile)
	seen := map[int]int{}
	for _, r := range res.records {
		seen[r.Line]++
		if r.Line > 22 && (r.Error != nil || r.Status != 200) {
			t.Errorf("line %d: %+v, want a success of the resumed run", r.Line, r)
		}
	}
	for line := 1; line <= 30; line++ {
		if seen[line] != 1 {
			t.Errorf("line %d has %d results, want 1", line, seen[line])
		}
	}
	r := reportJSON(t, jobFile)
	if r.Stored != 30 || r.Total == nil || *r.Total != 30 || len(r.BusiestHosts) == 0 || r.BusiestHosts[0].Host != "http://127.0.0.1:47311" {
		t.Errorf("report of the resumed job: %+v", r)
	}
}

// reportJSON returns gather report --json of the job file.
func reportJSON(t *testing.T, jobFile string) report.Report {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	if res := gatherRaw(t, "report", jobFile, "--json", out); res.code != 0 {
		t.Fatalf("report: exit %d: %s", res.code, res.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}
