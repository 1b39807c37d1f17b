package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	raw := gatherRaw(t, "report", jobFile)
	if raw.code != 0 || !strings.Contains(raw.stdout, "22") || !strings.Contains(raw.stdout, "http_status") {
		t.Fatalf("report of the old job: exit %d\n%s\n%s", raw.code, raw.stdout, raw.stderr)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:47311")
	if err != nil {
		t.Skipf("the job's server address is taken: %v", err)
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
	raw = gatherRaw(t, "report", jobFile)
	if raw.code != 0 || !strings.Contains(raw.stdout, "30") || !strings.Contains(raw.stdout, "http://127.0.0.1:47311") {
		t.Errorf("report of the resumed job: exit %d\n%s\n%s", raw.code, raw.stdout, raw.stderr)
	}
}
