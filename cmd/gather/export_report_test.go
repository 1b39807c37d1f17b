package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/jobfixture"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/gogather/gather/report"
)

// rawResult is a run of the binary with its standard output as it is.
type rawResult struct {
	stdout, stderr string
	code           int
}

func gatherRaw(t *testing.T, args ...string) rawResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := rawResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		res.code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return res
}

// jobResults are stored in this order (seq), not in line order.
var jobResults = []jobfixture.Result{
	{Line: 3, Run: 1, URL: "http://a.test/3", Status: 404, Kind: fetch.KindHTTPStatus, Message: "404 Not Found", Attempts: 1, MS: 30, Finished: 1001},
	{Line: 1, Run: 1, URL: "http://a.test/1?q=1,2", Status: 200, Attempts: 1, MS: 10, Bytes: 10, Finished: 1002},
	{Line: 5, Run: 1, URL: "https://b.test/5", Status: 503, Kind: fetch.KindHTTPStatus, Message: "503 \"Service\", Unavailable\nreally", Attempts: 3, MS: 50, Finished: 1003},
	{Line: 2, Run: 1, URL: "http://a.test/2", Status: 200, Attempts: 2, MS: 20, Bytes: 20, Finished: 1004},
	{Line: 4, Run: 1, URL: "https://b.test/4", Kind: fetch.KindDNS, Message: "lookup b.test: no such host", Attempts: 1, MS: 40, Finished: 1005},
	{Line: 6, Run: 1, URL: "not a url", Kind: fetch.KindBadInput, Message: "not an http(s) URL", Finished: 1006},
}

// writeJob writes a job file of jobResults; total < 0 leaves the total
// unknown.
func writeJob(t *testing.T, total int) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crawl.db")
	db, err := jobfixture.Create(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := jobfixture.AddRun(ctx, db, jobfixture.Run{ID: 1, Started: 1000, Ended: 1007, Status: "done"}); err != nil {
		t.Fatal(err)
	}
	if err := jobfixture.Add(ctx, db, jobResults...); err != nil {
		t.Fatal(err)
	}
	if err := jobfixture.AddHistory(ctx, db, jobfixture.Result{Line: 2, Run: 1, URL: "http://a.test/2", Status: 503,
		Kind: fetch.KindHTTPStatus, Message: "503", Attempts: 3, MS: 900, Finished: 1000.5}); err != nil {
		t.Fatal(err)
	}
	if total >= 0 {
		if err := jobfixture.SetMeta(ctx, db, "total", fmt.Sprint(total)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// storedRecords returns the record column of the job's results, by line.
func storedRecords(t *testing.T, path string) map[int]string {
	t.Helper()
	recs := map[int]string{}
	for _, res := range storedResults(t, path) {
		recs[res.Line] = string(res.Record)
	}
	return recs
}

func lines(t *testing.T, res result) []int {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var ls []int
	for _, r := range res.records {
		ls = append(ls, r.Line)
	}
	return ls
}

func TestExportJSONL(t *testing.T) {
	path := writeJob(t, 6)
	stored := storedRecords(t, path)
	raw := gatherRaw(t, "export", path)
	var want strings.Builder
	for line := 1; line <= 6; line++ {
		want.WriteString(stored[line] + "\n")
	}
	if raw.code != 0 || raw.stdout != want.String() || raw.stderr != "" {
		t.Fatalf("exit %d, stderr %q; stdout\n%s\nwant the stored records verbatim, by line:\n%s", raw.code, raw.stderr, raw.stdout, want.String())
	}
	for _, c := range []struct {
		args []string
		want []int
	}{
		{nil, []int{1, 2, 3, 4, 5, 6}},
		{[]string{"--order", "stored"}, []int{3, 1, 5, 2, 4, 6}},
		{[]string{"--failed"}, []int{3, 4, 5, 6}},
		{[]string{"--failed", "--order", "stored"}, []int{3, 5, 4, 6}},
		{[]string{"--status", "404,5xx"}, []int{3, 5}},
		{[]string{"--status", "0"}, []int{4, 6}},
		{[]string{"--status", "2xx", "--status", "404"}, []int{1, 2, 3}},
		{[]string{"--status", "2xx", "--failed"}, nil},
		// The grammar of --retry-failed: kinds, none, ok, failed.
		{[]string{"--status", "dns,bad_input"}, []int{4, 6}},
		{[]string{"--status", "none"}, []int{4, 6}},
		{[]string{"--status", "ok"}, []int{1, 2}},
		{[]string{"--status", "failed"}, []int{3, 4, 5, 6}},
		{[]string{"--status", "http_status,2xx"}, []int{1, 2, 3, 5}},
		{[]string{"--status", "http_status", "--failed", "--order", "stored"}, []int{3, 5}},
	} {
		got := lines(t, gather(t, "", append([]string{"export", path}, c.args...)...))
		if !slices.Equal(got, c.want) {
			t.Errorf("export %v: lines %v, want %v", c.args, got, c.want)
		}
	}
}

func TestExportCSV(t *testing.T) {
	path := writeJob(t, 6)
	out := filepath.Join(t.TempDir(), "out.csv")
	if res := gatherRaw(t, "export", path, "--format", "csv", "--failed", "-o", out); res.code != 0 || res.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	f, _ := os.ReadFile(out)
	rows, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, f)
	}
	if want := "line,url,status,error_kind,error,attempts,ms,bytes,sha256"; strings.Join(rows[0], ",") != want {
		t.Errorf("header %q, want the default fields %q", rows[0], want)
	}
	if len(rows) != 5 || rows[3][0] != "5" || rows[3][4] != "503 \"Service\", Unavailable\nreally" || rows[3][5] != "3" {
		t.Errorf("rows %q", rows)
	}

	res := gatherRaw(t, "export", path, "--format", "csv", "--fields", "line,url,error_kind", "--status", "2xx,0")
	want := "line,url,error_kind\n1,\"http://a.test/1?q=1,2\",\n2,http://a.test/2,\n4,https://b.test/4,dns\n6,not a url,bad_input\n"
	if res.code != 0 || res.stdout != want {
		t.Errorf("exit %d, stderr %q, CSV\n%s\nwant\n%s", res.code, res.stderr, res.stdout, want)
	}
	// No result selected: the header alone.
	res = gatherRaw(t, "export", path, "--format", "csv", "--fields", "line,status", "--status", "302")
	if res.code != 0 || res.stdout != "line,status\n" {
		t.Errorf("exit %d, CSV %q", res.code, res.stdout)
	}
}

// TestExportAfterFetchJob checks that the records exported from a job are
// the records gather fetch writes, field for field.
func TestExportAfterFetchJob(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	var in strings.Builder
	for i := range 40 {
		status := 200
		if i%7 == 3 {
			status = 404
		}
		fmt.Fprintf(&in, "%s/item/%d?status=%d\n", srv.URL(), i, status)
	}
	in.WriteString("not a url\n")
	input := filepath.Join(dir, "urls.txt")
	os.WriteFile(input, []byte(in.String()), 0o644)
	jobFile := filepath.Join(dir, "crawl.db")
	direct := gather(t, "", "fetch", input, "-q", "--ordered")
	res := gather(t, "", "fetch", input, "-q", "--job", jobFile, "-o", filepath.Join(dir, "out.jsonl"))
	if res.code != exitSomeFailed {
		t.Fatalf("fetch --job: exit %d: %s", res.code, res.stderr)
	}
	exported := gather(t, "", "export", jobFile)
	if exported.code != 0 || len(exported.records) != len(direct.records) || len(direct.records) != 41 {
		t.Fatalf("exit %d, %d records exported, %d fetched: %s", exported.code, len(exported.records), len(direct.records), exported.stderr)
	}
	for i, r := range exported.records {
		d := direct.records[i]
		// Timings and the port-free parts aside, the records agree.
		r.MS, d.MS = 0, 0
		r.Retries, d.Retries = nil, nil
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(d)
		if !bytes.Equal(a, b) {
			t.Errorf("line %d: exported %s, fetched %s", i+1, a, b)
		}
	}
	rep := gatherRaw(t, "report", jobFile)
	for _, want := range []string{"progress: 41 of 41 inputs stored (100.0%)", "outcomes: 34 ok, 7 failed", "status codes: 0 1, 200 34, 404 6"} {
		if !strings.Contains(rep.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, rep.stdout)
		}
	}
}

func TestReportCommand(t *testing.T) {
	path := writeJob(t, 10)
	dir := t.TempDir()
	htmlFile, jsonFile := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.json")
	res := gatherRaw(t, "report", path, "--html", htmlFile, "--json", jsonFile)
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{
		"progress: 6 of 10 inputs stored (60.0%)",
		"outcomes: 2 ok, 4 failed (66.7%)",
		"status classes: 2xx 2, 4xx 1, 5xx 1, none 2",
		"latency ms (5 requests): p50 30.0  p90 50.0  p99 50.0  max 50.0  mean 30.0",
		"retries: 3 attempts beyond the first; 1 earlier result superseded by a later run",
		"most failing hosts",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("no %q in\n%s", want, res.stdout)
		}
	}
	var rep report.Report
	b, _ := os.ReadFile(jsonFile)
	if err := json.Unmarshal(b, &rep); err != nil || rep.Stored != 6 || *rep.Total != 10 || rep.Job != path {
		t.Errorf("--json: %v\n%s", err, b)
	}
	h, _ := os.ReadFile(htmlFile)
	if !bytes.Contains(h, []byte("<svg")) || bytes.Contains(h, []byte("<script")) {
		t.Errorf("--html wrote %d bytes without a chart, or with a script", len(h))
	}

	unknown := gatherRaw(t, "report", writeJob(t, -1))
	if want := "total unknown: the input was not read to its end yet"; unknown.code != 0 || !strings.Contains(unknown.stdout, want) {
		t.Errorf("exit %d, no %q in\n%s", unknown.code, want, unknown.stdout)
	}
}

func TestExportReportErrors(t *testing.T) {
	dir := t.TempDir()
	path := writeJob(t, 6)
	foreign := filepath.Join(dir, "other.db")
	writeForeignDB(t, foreign)
	text := filepath.Join(dir, "urls.txt")
	os.WriteFile(text, []byte("http://example.com/ and more text than a SQLite header, surely\n"), 0o644)
	outFile := filepath.Join(dir, "keep.jsonl")
	os.WriteFile(outFile, []byte("precious\n"), 0o644)

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", foreign}, exitUsage, "gather: " + foreign + ": not a gather job file"},
		{[]string{"report", foreign}, exitUsage, "gather: " + foreign + ": not a gather job file"},
		{[]string{"export", text, "-o", outFile}, exitUsage, "gather: " + text + ": not a gather job file"},
		{[]string{"report", text}, exitUsage, "gather: " + text + ": not a gather job file"},
		{[]string{"export", filepath.Join(dir, "none.db")}, exitUsage, "no such file"},
		{[]string{"report", filepath.Join(dir, "none.db")}, exitUsage, "no such file"},
		{[]string{"export"}, exitUsage, "accepts 1 arg"},
		{[]string{"export", path, "--order", "random", "-o", outFile}, exitUsage, `--order "random"`},
		{[]string{"export", path, "--status", "abc", "-o", outFile}, exitUsage, `"abc" is neither`},
		{[]string{"export", path, "--status", "1000"}, exitUsage, `"1000" is neither`},
		{[]string{"export", path, "--status", "404,dsn"}, exitUsage, `item 2 of "404,dsn": "dsn" is neither an error kind (`},
		{[]string{"export", path, "--fields", "url", "-o", outFile}, exitUsage, "--fields applies to --format csv"},
		{[]string{"export", path, "--format", "csv", "--fields", "colour"}, exitUsage, `unknown CSV field "colour"`},
		{[]string{"export", path, "--format", "xml"}, exitUsage, `--format "xml"`},
		{[]string{"export", path, "-o", filepath.Join(dir, "no", "such", "dir", "x.jsonl")}, exitRuntime, "gather: -o: "},
		{[]string{"report", path, "--html", filepath.Join(dir, "no", "such", "dir", "r.html")}, exitRuntime, "gather: --html: "},
		{[]string{"report", path, "--json", dir}, exitRuntime, "gather: --json: "},
	} {
		res := gatherRaw(t, c.args...)
		if res.code != c.code || !strings.HasPrefix(res.stderr, "gather: ") || !strings.Contains(res.stderr, c.want) ||
			strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", c.args, res.code, res.stderr, c.code, c.want)
		}
	}
	if b, _ := os.ReadFile(outFile); string(b) != "precious\n" {
		t.Errorf("a usage error changed the -o file: %q", b)
	}
}
