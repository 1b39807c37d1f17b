package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/gathertest"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/gogather/gather/run"
)

// The command line is tested by running the built binary.
var binary string

func TestMain(m *testing.M) { gathertest.Main(m, ".", &binary) }

type result struct {
	records []fetch.Record
	stderr  string
	code    int
}

// gather runs the command in this process (runIn): every behaviour but
// real signals and the process's own exit is tested this way; those run
// the built binary (gatherBinary).
func gather(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runIn(t, stdin, args...)
}

// gatherBinary runs the built binary, for what only a process shows.
func gatherBinary(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stderr: stderr.String(), records: parseRecords(t, stdout.Bytes())}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		res.code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return res
}

// parseRecords parses JSON lines and fails on any line that is not a
// complete record.
func parseRecords(t *testing.T, out []byte) []fetch.Record {
	t.Helper()
	var recs []fetch.Record
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r fetch.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("an output line is not a complete record: %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestFetchFileWithBadLines(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	lines := []string{srv.URL() + "/a", "", "not a url", "# comment", srv.URL() + "/b?status=404", srv.URL() + "/c"}
	file := filepath.Join(t.TempDir(), "urls.txt")
	os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	res := gather(t, "", "fetch", file, "-c", "4")
	if res.code != exitSomeFailed {
		t.Fatalf("exit %d, want %d (some failed); stderr:\n%s", res.code, exitSomeFailed, res.stderr)
	}
	byLine := map[int]fetch.Record{}
	for _, r := range res.records {
		byLine[r.Line] = r
	}
	// Lines 2 (blank) and 4 (a comment) are skipped: no record.
	if len(byLine) != len(lines)-2 || len(res.records) != len(lines)-2 || byLine[2].Line != 0 || byLine[4].Line != 0 {
		t.Fatalf("%d records for %d lines, 2 of them skipped", len(res.records), len(lines))
	}
	for _, line := range []int{3} {
		if r := byLine[line]; r.Error == nil || r.Error.Kind != fetch.KindBadInput {
			t.Errorf("line %d: %+v, want bad_input", line, r)
		}
	}
	if r := byLine[5]; r.Status != 404 || r.Error.Kind != fetch.KindHTTPStatus {
		t.Errorf("line 5: %+v", r)
	}
	if r := byLine[1]; r.Status != 200 || r.Error != nil {
		t.Errorf("line 1: %+v", r)
	}
	if !strings.Contains(res.stderr, "4 records") || !strings.Contains(res.stderr, "p99") {
		t.Errorf("no summary on stderr:\n%s", res.stderr)
	}
}

func TestFetchStdinAllOK(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	var in strings.Builder
	for i := range 200 {
		fmt.Fprintf(&in, "%s/item/%d\n", srv.URL(), i)
	}
	stats := filepath.Join(t.TempDir(), "stats.json")
	res := gather(t, in.String(), "fetch", "-", "-c", "16", "--per-host", "4", "--ordered", "--stats", stats)
	if res.code != exitOK || len(res.records) != 200 {
		t.Fatalf("exit %d, %d records; stderr:\n%s", res.code, len(res.records), res.stderr)
	}
	for i, r := range res.records {
		if r.Line != i+1 {
			t.Fatalf("--ordered: record %d has line %d", i, r.Line)
		}
	}
	if n := srv.Stats().MaxConcurrent; len(n) != 1 {
		t.Fatalf("hosts seen: %v", n)
	} else {
		for host, peak := range n {
			if peak > 4 {
				t.Fatalf("%s saw %d at once, --per-host 4", host, peak)
			}
		}
	}
	var sum run.Summary
	b, err := os.ReadFile(stats)
	if err != nil || json.Unmarshal(b, &sum) != nil || sum.Records != 200 || sum.OK != 200 {
		t.Fatalf("--stats file: %s, %v", b, err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"fetch", "--no-such-flag"},
		{"fetch", "/no/such/file"},
		{"fetch", "-c", "0"},
		{"fetch", "--body", "xml"},
		{"fetch", "-H", "no colon"},
		{"fetch", "--cacert", "/no/such/file"},
		{"fetch", "--cacert", "main_test.go"},
		{"fetch", "--grace", "5s"},
		{"no-such-command"},
	} {
		res := gather(t, "", args...)
		if res.code != exitUsage || !strings.HasPrefix(res.stderr, "gather: ") || strings.Contains(res.stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q", args, res.code, res.stderr)
		}
	}
}

func TestSIGINTLeavesCompleteRecords(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	// 100 quick inputs, then inputs that hang until cancelled: once the
	// server has received 32 of those, they hold all 32 slots.
	var in strings.Builder
	for i := range 2000 {
		if i < 100 {
			fmt.Fprintf(&in, "%s/ok/%d?latency=5ms\n", srv.URL(), i)
		} else {
			fmt.Fprintf(&in, "%s/hang/%d?hang=1\n", srv.URL(), i)
		}
	}
	cmd := exec.Command(binary, "fetch", "-c", "32")
	cmd.Stdin = strings.NewReader(in.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	hanging := func() int { return requestsUnder(srv, "/hang/") }
	deadline := time.Now().Add(20 * time.Second)
	for hanging() < 32 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d; stderr:\n%s", err, exitInterrupted, stderr.String())
	}
	recs := parseRecords(t, stdout.Bytes())
	ok, canceled := 0, 0
	for _, r := range recs {
		hang := strings.Contains(r.URL, "/hang/")
		switch {
		case !hang && r.Error == nil:
			ok++
		case hang && r.Error != nil && r.Error.Kind == fetch.KindCanceled:
			canceled++
		default:
			t.Fatalf("unexpected record %+v", r)
		}
	}
	if ok != 100 || canceled != 32 {
		t.Fatalf("%d ok and %d canceled records; want 100 and the 32 in flight", ok, canceled)
	}
	if !strings.Contains(stderr.String(), "interrupted") || !strings.Contains(stderr.String(), "records in") {
		t.Fatalf("stderr lacks the interruption note or the summary:\n%s", stderr.String())
	}
}

// startUpstreamProcess runs `gather upstream` as a process of its own (not
// slowed by the race detector of the test binary) and returns its URL.
func startUpstreamProcess(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(binary, "upstream", "--addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil {
		t.Fatalf("gather upstream: %v", err)
	}
	for _, word := range strings.Fields(line) {
		if strings.HasPrefix(word, "http://") {
			return word
		}
	}
	t.Fatalf("gather upstream did not say where it serves: %q", line)
	return ""
}

func TestHundredThousandInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 requests")
	}
	base := startUpstreamProcess(t)
	file := filepath.Join(t.TempDir(), "urls.txt")
	f, _ := os.Create(file)
	w := bufio.NewWriter(f)
	for i := range 100_000 {
		fmt.Fprintf(w, "%s/i/%d\n", base, i)
	}
	w.Flush()
	f.Close()
	out := filepath.Join(t.TempDir(), "out.jsonl")
	start := time.Now()
	res := gather(t, "", "fetch", file, "-c", "64", "-o", out, "-q")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	b, _ := os.ReadFile(out)
	recs := parseRecords(t, b)
	seen := make([]bool, 100_001)
	for _, r := range recs {
		if seen[r.Line] {
			t.Fatalf("line %d twice", r.Line)
		}
		seen[r.Line] = true
	}
	if len(recs) != 100_000 {
		t.Fatalf("%d records", len(recs))
	}
	t.Logf("100,000 requests in %v", time.Since(start))
}

func TestDemo(t *testing.T) {
	res := gather(t, "", "demo", "-n", "500", "-c", "100", "--latency", "20ms", "--jitter", "10ms")
	if res.code != exitOK || !strings.Contains(res.stderr, "500 records") || !strings.Contains(res.stderr, "one by one") {
		t.Fatalf("exit %d:\n%s", res.code, res.stderr)
	}
	out := filepath.Join(t.TempDir(), "demo.jsonl")
	if res := gather(t, "", "demo", "-n", "50", "-o", out); res.code != exitOK {
		t.Fatalf("demo -o: exit %d: %s", res.code, res.stderr)
	}
	b, _ := os.ReadFile(out)
	if recs := parseRecords(t, b); len(recs) != 50 {
		t.Fatalf("demo -o wrote %d records, want 50", len(recs))
	}
	if res := gather(t, "", "demo", "-n", "1", "-o", filepath.Join(t.TempDir(), "no", "dir", "x")); res.code != exitRuntime {
		t.Fatalf("demo with an unwritable -o: exit %d, want %d", res.code, exitRuntime)
	}
}

func TestCSVInputWithTemplatesAndKeep(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	file := filepath.Join(dir, "users.csv")
	csvText := "id,name,token\n" +
		"1,\"Ada, Countess\",t1\n" +
		"\n" + // a blank line: skipped, line 3
		"2,Grace\n" + // a short row: bad_input, line 4
		"3,Linus,t3\n"
	os.WriteFile(file, []byte(csvText), 0o644)
	res := gather(t, "", "fetch", file,
		"--url", srv.URL()+"/users/${{ .id }}?echo=1",
		"-H", "Authorization: Bearer ${{ .token }}",
		"-H", "X-Constant: yes",
		"-X", "POST", "--data", `{"name": ${{ .name | tojson }}}`,
		"--keep", "id,name", "--body", "text")
	if res.code != exitSomeFailed {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	byLine := map[int]fetch.Record{}
	for _, r := range res.records {
		byLine[r.Line] = r
	}
	if len(byLine) != 3 || byLine[3].Line != 0 {
		t.Fatalf("%d records for 3 data lines (line 3 is blank): %+v", len(byLine), res.records)
	}
	for _, line := range []int{4} {
		if r := byLine[line]; r.Error == nil || r.Error.Kind != fetch.KindBadInput {
			t.Fatalf("line %d: %+v", line, r)
		}
	}
	r := byLine[2]
	if r.Error != nil || r.Input["id"] != "1" || r.Input["name"] != "Ada, Countess" {
		t.Fatalf("line 2: %+v", r)
	}
	var echo struct {
		Method  string              `json:"method"`
		Path    string              `json:"path"`
		Headers map[string][]string `json:"headers"`
		Body    string              `json:"body"`
	}
	if err := json.Unmarshal(r.Body, &echo); err != nil {
		t.Fatalf("echo body %s: %v", r.Body, err)
	}
	if echo.Method != "POST" || echo.Path != "/users/1" || echo.Body != `{"name": "Ada, Countess"}` ||
		fmt.Sprint(echo.Headers["Authorization"]) != "[Bearer t1]" || fmt.Sprint(echo.Headers["X-Constant"]) != "[yes]" {
		t.Fatalf("the server saw %+v", echo)
	}
}

func TestJSONLInputErrorsAndCSVOutput(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	file := filepath.Join(t.TempDir(), "in.jsonl")
	os.WriteFile(file, []byte(`{"path": "a"}`+"\n"+`{"path": "b",}`+"\n"+`{"nopath": 1}`+"\n"+`{"path": "c"}`+"\n"), 0o644)
	out := filepath.Join(t.TempDir(), "out.csv")
	res := gather(t, "", "fetch", file, "--url", srv.URL()+"/${{ .path // error(\"no path\") }}",
		"--format", "csv", "--fields", "line,url,status,error_kind,error", "-o", out)
	if res.code != exitSomeFailed {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	b, _ := os.ReadFile(out)
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) != 5 || strings.Join(rows[0], ",") != "line,url,status,error_kind,error" {
		t.Fatalf("CSV output %q: %v", b, err)
	}
	byLine := map[string][]string{}
	for _, row := range rows[1:] {
		byLine[row[0]] = row
	}
	if row := byLine["2"]; row[3] != "bad_input" || !strings.Contains(row[4], "line 2, column") {
		t.Fatalf("bad JSON line: %q", row)
	}
	if row := byLine["3"]; row[3] != "bad_input" || !strings.Contains(row[4], "no path") {
		t.Fatalf("failing template: %q", row)
	}
	if row := byLine["4"]; row[2] != "200" || !strings.HasSuffix(row[1], "/c") {
		t.Fatalf("good line: %q", row)
	}
}

func TestTemplateSyntaxErrorIsUsageError(t *testing.T) {
	res := gather(t, "", "fetch", "--url", "http://x/${{ .id | }}")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--url") || !strings.Contains(res.stderr, "column") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}

// A usage error leaves an existing -o file as it was.
func TestUsageErrorKeepsOutputFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "keep.jsonl")
	os.WriteFile(out, []byte("precious\n"), 0o644)
	if res := gather(t, "", "fetch", "--format", "xml", "-o", out); res.code != exitUsage {
		t.Fatalf("--format xml: exit %d", res.code)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious\n" {
		t.Fatalf("a usage error truncated the output file: %q", b)
	}
}

// Without --job, an -o in a directory that does not exist is a runtime
// error (exit 3).
func TestOutputInMissingDirIsRuntimeError(t *testing.T) {
	if res := gather(t, "", "fetch", "-o", filepath.Join(t.TempDir(), "no", "such", "dir", "x")); res.code != exitRuntime {
		t.Fatalf("unwritable -o: exit %d, want %d", res.code, exitRuntime)
	}
}

// A negative --body-head is a usage error.
func TestNegativeBodyHeadIsUsageError(t *testing.T) {
	if res := gather(t, "", "fetch", "--body", "head", "--body-head", "-1"); res.code != exitUsage {
		t.Fatalf("--body-head -1: exit %d", res.code)
	}
}

// A constant and a templated header of one name are both sent.
func TestConstantAndTemplatedHeaderOfOneName(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	res := gather(t, `{"y":"b"}`+"\n", "fetch", "--input-format", "jsonl", "--url", srv.URL()+"/e?echo=1",
		"-H", "X-T: a", "-H", "X-T: ${{ .y }}", "--body", "text")
	if len(res.records) != 1 || !strings.Contains(string(res.records[0].Body), `"X-T":["a","b"]`) {
		t.Fatalf("a constant and a templated header of one name: %+v", res.records)
	}
}

func TestSIGINTWithIdleStdin(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	cmd := exec.Command(binary, "fetch", "-q")
	stdin, _ := cmd.StdinPipe()
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(stdin, "%s/first\n", srv.URL()) // then the producer goes quiet
	deadline := time.Now().Add(10 * time.Second)
	for srv.Stats().ByPath["/first"] == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let the record be written
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
			t.Fatalf("exit %v", err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("Ctrl-C did not end a run whose input had gone quiet")
	}
	stdin.Close()
	if recs := parseRecords(t, stdout.Bytes()); len(recs) != 1 || recs[0].Status != 200 {
		t.Fatalf("records %+v", recs)
	}
}

// A TLS server with its own certificate: refused by default (a tls
// record), fetched with --cacert holding its certificate, or with -k.
func TestTLSFlags(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		kind string
	}{
		{nil, "tls"},
		{[]string{"--cacert", ca}, ""},
		{[]string{"-k"}, ""},
	} {
		res := gather(t, srv.URL+"/x\n", append([]string{"fetch", "-q"}, c.args...)...)
		if len(res.records) != 1 {
			t.Fatalf("%v: %d records, stderr %q", c.args, len(res.records), res.stderr)
		}
		rec := res.records[0]
		kind := ""
		if rec.Error != nil {
			kind = string(rec.Error.Kind)
		}
		if kind != c.kind {
			t.Errorf("%v: error %+v, want kind %q", c.args, rec.Error, c.kind)
		}
	}
}
