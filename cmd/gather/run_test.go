package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// runFlowFile copies the flow testdata/run/name to a temporary directory
// with BASE replaced by base (an upstream's URL) and each further pair of
// replacements made, and returns its path.
func runFlowFile(t *testing.T, name, base string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "run", name))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "BASE", base)
	text = strings.NewReplacer(replace...).Replace(text)
	return writeTestFile(t, t.TempDir(), name, text)
}

// flowLine is one line of gather run's output.
type flowLine struct {
	Line   int                 `json:"line"`
	Output json.RawMessage     `json:"output"`
	Steps  map[string]flowStep `json:"steps"`
	Error  *flowLineError      `json:"error"`
	raw    string
}

type flowStep struct {
	Status string         `json:"status"`
	MS     *float64       `json:"ms"`
	Reason string         `json:"reason"`
	Error  map[string]any `json:"error"`
}

type flowLineError struct {
	Step    string `json:"step"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// parseFlowLines parses gather run's output, one complete JSON object a
// line, and fails on anything else.
func parseFlowLines(t *testing.T, out []byte) []flowLine {
	t.Helper()
	var lines []flowLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l flowLine
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.DisallowUnknownFields()
		if err := d.Decode(&l); err != nil {
			t.Fatalf("an output line is not a complete flow line: %q: %v", sc.Text(), err)
		}
		l.raw = sc.Text()
		lines = append(lines, l)
	}
	return lines
}

// byLine indexes lines by their "line", failing on a line seen twice.
func byLine(t *testing.T, lines []flowLine) map[int]flowLine {
	t.Helper()
	m := map[int]flowLine{}
	for _, l := range lines {
		if _, dup := m[l.Line]; dup {
			t.Fatalf("line %d twice in the output", l.Line)
		}
		m[l.Line] = l
	}
	return m
}

// msField matches a step's time, which varies from run to run.
var msField = regexp.MustCompile(`"ms":[0-9.e+-]+`)

// withoutTimes replaces every "ms" value of s with 0.
func withoutTimes(s string) string { return msField.ReplaceAllString(s, `"ms":0`) }

// Without --input the flow runs once and prints one JSON object: the
// output, each step's status and time, and no "line".
func TestRunOncePrintsOneObject(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := runFlowFile(t, "once.yaml", srv.URL())
	out, res := runInRaw("", "run", flowPath)
	if res.code != exitOK || res.stderr != "" {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	const want = `{"output":"GET /once","steps":{"get":{"ms":0,"status":"ok"}}}` + "\n"
	if got := withoutTimes(string(out)); got != want {
		t.Fatalf("stdout %q, want (times as 0) %q", out, want)
	}
	if !msField.Match(out) {
		t.Fatalf("no step time in %q", out)
	}
	if n := srv.Stats().ByPath["/once"]; n != 1 {
		t.Fatalf("/once requested %d times, want 1", n)
	}
}

// A flow run once that fails prints its object with the error, says why
// on standard error, and exits 1; -o writes the object to a file.
func TestRunOnceFailedExitsOne(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := writeTestFile(t, t.TempDir(), "f.yaml", "steps:\n  get:\n    http:\n      url: "+srv.URL()+"/gone?status=410\n")
	out, res := runInRaw("", "run", flowPath)
	const want = `{"output":null,"steps":{"get":{"error":{"kind":"http_status","message":"410 Gone"},"ms":0,"status":"failed"}},` +
		`"error":{"kind":"http_status","message":"410 Gone","status":410,"step":"get"}}` + "\n"
	if res.code != exitSomeFailed || withoutTimes(string(out)) != want || !strings.HasPrefix(res.stderr, "gather: ") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and %q", res.code, out, res.stderr, want)
	}
	file := filepath.Join(t.TempDir(), "once.json")
	out, res = runInRaw("", "run", "-q", "-o", file, flowPath)
	b, _ := os.ReadFile(file)
	if res.code != exitSomeFailed || len(out) != 0 || res.stderr != "" || withoutTimes(string(b)) != want {
		t.Fatalf("-o -q: exit %d, stdout %q, stderr %q, file %q", res.code, out, res.stderr, b)
	}
}

// Per record, over JSONL, CSV and plain lines (whose .input is the line's
// text, trimmed): one line per record, with its "line", the record as
// .input, and exit 0.
func TestRunPerRecordOverJSONLCSVAndLines(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := runFlowFile(t, "echo_input.yaml", srv.URL())
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		want          map[int]string // line -> the output's input, as JSON
	}{
		{"in.jsonl", `{"id":1,"tags":["a"]}` + "\n" + `{"id":2,"name":"Ada, Countess"}` + "\n" + `{"id":3}` + "\n",
			map[int]string{1: `{"id":1,"tags":["a"]}`, 2: `{"id":2,"name":"Ada, Countess"}`, 3: `{"id":3}`}},
		{"in.csv", "id,name\n1,\"Ada, Countess\"\n2,Grace\n",
			map[int]string{2: `{"id":"1","name":"Ada, Countess"}`, 3: `{"id":"2","name":"Grace"}`}},
		{"in.txt", "hello world\n  padded  \n\nlast",
			map[int]string{1: `"hello world"`, 2: `"padded"`, 4: `"last"`}},
	} {
		file := writeTestFile(t, dir, tc.name, tc.content)
		out, res := runInRaw("", "run", flowPath, "--input", file, "-c", "4", "-q")
		if res.code != exitOK || res.stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", tc.name, res.code, res.stderr)
		}
		lines := byLine(t, parseFlowLines(t, out))
		if len(lines) != len(tc.want) {
			t.Fatalf("%s: %d lines, want %d:\n%s", tc.name, len(lines), len(tc.want), out)
		}
		for n, in := range tc.want {
			l, ok := lines[n]
			want := `{"echoed":` + in + `,"input":` + in + `}`
			if !ok || string(l.Output) != want || l.Error != nil || l.Steps["get"].Status != "ok" {
				t.Errorf("%s line %d: %q, want output %s", tc.name, n, l.raw, want)
			}
		}
	}
	// Standard input, plain lines by default.
	out, res := runInRaw("one\ntwo\n", "run", flowPath, "--input", "-", "-q")
	lines := byLine(t, parseFlowLines(t, out))
	if res.code != exitOK || len(lines) != 2 || string(lines[2].Output) != `{"echoed":"two","input":"two"}` {
		t.Fatalf("--input -: exit %d, %q", res.code, out)
	}
}

// A record whose required step fails has an "error" {step, kind, message,
// status}, the steps after it are skipped for "dependency failed", and
// the run exits 1; an optional step's failure keeps a record ok.
func TestRunFailedStepSkipsDependentsOptionalDoesNot(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := runFlowFile(t, "chain.yaml", srv.URL())
	in := writeTestFile(t, t.TempDir(), "in.jsonl", `{"id":"ok"}`+"\n"+`{"id":"bad","status":404}`+"\n")
	out, res := runInRaw("", "run", flowPath, "--input", in, "-q")
	if res.code != exitSomeFailed {
		t.Fatalf("exit %d, want 1; stderr %q", res.code, res.stderr)
	}
	lines := byLine(t, parseFlowLines(t, out))
	okLine, bad := lines[1], lines[2]
	if len(lines) != 2 || okLine.Error != nil || string(okLine.Output) != "200" {
		t.Fatalf("the good record: %q", okLine.raw)
	}
	for _, name := range []string{"first", "second", "third"} {
		if okLine.Steps[name].Status != "ok" {
			t.Errorf("the good record's step %s: %+v", name, okLine.Steps[name])
		}
	}
	if e := okLine.Steps["extra"]; e.Status != "failed" || e.Error["kind"] != "http_status" {
		t.Errorf("the optional step extra: %+v, want failed with http_status (and the record ok)", e)
	}
	wantErr := flowLineError{Step: "first", Kind: "http_status", Message: "404 Not Found", Status: 404}
	if bad.Error == nil || *bad.Error != wantErr || string(bad.Output) != "null" {
		t.Fatalf("the failed record: %q, want error %+v", bad.raw, wantErr)
	}
	if s := bad.Steps["first"]; s.Status != "failed" || s.Error["kind"] != "http_status" {
		t.Errorf("the failed step: %+v", s)
	}
	for _, name := range []string{"second", "third"} {
		if s := bad.Steps[name]; s.Status != "skipped" || s.Reason != "dependency failed" {
			t.Errorf("%s after a failed step: %+v, want skipped for \"dependency failed\"", name, s)
		}
	}
	stats := srv.Stats().ByPath
	if stats["/second/bad"] != 0 || stats["/third/bad"] != 0 || stats["/third/ok"] != 1 {
		t.Errorf("requests by path: %v", stats)
	}
}

// An invalid flow is refused with exit 2 and, on standard error, exactly
// what gather check prints, with or without --input; nothing is run.
func TestRunInvalidFlowPrintsCheckErrors(t *testing.T) {
	for _, args := range [][]string{
		{"run", invalidFlow},
		{"run", invalidFlow, "--input", "-"},
	} {
		checkRun(t, "{}\n", args, exitUsage, "", invalidFlowErrors)
	}
	_, check := runInRaw("", "check", invalidFlow)
	if check.stderr != invalidFlowErrors {
		t.Fatalf("gather check printed %q", check.stderr)
	}
}

// Each refusal of runFlags.check: exit 2, one line, exactly.
func TestRunUsageRefusals(t *testing.T) {
	dir := t.TempDir()
	flowPath := writeTestFile(t, dir, "f.yaml", "steps:\n  a: {exec: {command: [\"true\"]}}\n")
	in := writeTestFile(t, dir, "in.txt", "x\n")
	out := writeTestFile(t, dir, "out.jsonl", "precious\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--job", filepath.Join(dir, "j.db")}, "--job needs --input: a job keeps the results of a run over many records"},
		{[]string{"--input", in, "--format", "xml"}, `--format "xml": want jsonl or csv`},
		{[]string{"--input", in, "-c", "0"}, "--concurrency must be 1 to 100000, got 0"},
		{[]string{"--input", in, "--requests", "-1"}, "--requests must be 0 (automatic) to 100000, got -1"},
		{[]string{"--stats", filepath.Join(dir, "s.json")}, "--stats needs --input"},
		{[]string{"--input", in, "--retry-failed"}, "--retry-failed needs --job"},
		{[]string{"--input", in, "--grace", "1s"}, "--grace needs --job (without a job, Ctrl-C cancels the records in flight at once)"},
		{[]string{"--input", "-"}, "the flow and --input cannot both be standard input"},
		{[]string{"-c", "4"}, "--concurrency needs --input: without it the flow runs once"},
		{[]string{"--ordered"}, "--ordered needs --input: without it the flow runs once"},
	} {
		fp := flowPath
		if tc.args[len(tc.args)-1] == "-" {
			fp = "-"
		}
		args := append([]string{"run", fp, "-o", out}, tc.args...)
		checkRun(t, "", args, exitUsage, "", "gather: "+tc.want+"\n")
	}
	if b, _ := os.ReadFile(out); string(b) != "precious\n" {
		t.Fatalf("a refused run changed -o: %q", b)
	}
	for _, name := range []string{"j.db", "s.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("a refused run created %s", name)
		}
	}
}

// -o naming the flow or the input is refused (exit 2) and leaves the
// file as it was.
func TestRunOutputNamingTheFlowOrInputIsRefused(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := runFlowFile(t, "echo_input.yaml", srv.URL())
	in := writeTestFile(t, t.TempDir(), "in.txt", "a\nb\n")
	flowText, _ := os.ReadFile(flowPath)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", flowPath, "-o", flowPath}, "gather: -o " + flowPath + " is also the flow: writing it would destroy it\n"},
		{[]string{"run", flowPath, "--input", in, "-o", flowPath}, "gather: -o " + flowPath + " is also the flow: writing it would destroy it\n"},
		{[]string{"run", flowPath, "--input", in, "-o", in}, "gather: -o " + in + " is also the input: writing it would destroy it\n"},
	} {
		checkRun(t, "", tc.args, exitUsage, "", tc.want)
	}
	if b, _ := os.ReadFile(flowPath); !bytes.Equal(b, flowText) {
		t.Errorf("the flow was changed: %q", b)
	}
	if b, _ := os.ReadFile(in); string(b) != "a\nb\n" {
		t.Errorf("the input was changed: %q", b)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests by refused runs", n)
	}
}

// jobRecords writes n JSONL records {"id": "rI"}, every fifth with
// "status": 500 (a failing step b in two_steps.yaml), and returns the
// file and which ids fail.
func jobRecords(t *testing.T, n int) (string, map[string]bool) {
	t.Helper()
	var b strings.Builder
	failing := map[string]bool{}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("r%d", i)
		if i%5 == 0 {
			failing[id] = true
			fmt.Fprintf(&b, `{"id":%q,"status":500}`+"\n", id)
		} else {
			fmt.Fprintf(&b, `{"id":%q}`+"\n", id)
		}
	}
	return writeTestFile(t, t.TempDir(), "in.jsonl", b.String()), failing
}

// wantHits checks that each record's paths /a/ID and /b/ID were requested
// ok times for a record that succeeds, failed times for one that fails.
func wantHits(t *testing.T, srv *upstream.Server, failing map[string]bool, n, ok, failed int, when string) {
	t.Helper()
	by := srv.Stats().ByPath
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("r%d", i)
		want := int64(ok)
		if failing[id] {
			want = int64(failed)
		}
		for _, p := range []string{"/a/" + id, "/b/" + id} {
			if by[p] != want {
				t.Errorf("%s: %s requested %d times, want %d", when, p, by[p], want)
			}
		}
	}
}

// A --job run over 20 records, some failing, then the same command again:
// nothing runs again. --retry-failed runs the failed records only, every
// step of them, and only those its filter selects. -o with --job writes the job's lines in input order.
func TestRunJobResumesAndRetriesFailedOnly(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := runFlowFile(t, "two_steps.yaml", srv.URL(), "LATENCY", "1ms")
	in, failing := jobRecords(t, 20)
	jobFile := filepath.Join(t.TempDir(), "j.db")
	args := []string{"run", flowPath, "--input", in, "--job", jobFile, "-c", "5"}
	for run := 1; run <= 2; run++ {
		out, res := runInRaw("", args...)
		if res.code != exitSomeFailed || len(out) != 0 {
			t.Fatalf("run %d: exit %d, stdout %q, stderr %s", run, res.code, out, res.stderr)
		}
		wantHits(t, srv, failing, 20, 1, 1, fmt.Sprintf("after run %d", run))
	}
	// A filter that selects none of the failures (they are 500s) runs
	// nothing; without a filter every failed record runs again.
	if _, res := runInRaw("", append(args, "--retry-failed=404,timeout")...); res.code != exitSomeFailed {
		t.Fatalf("--retry-failed=404,timeout: exit %d, stderr %s", res.code, res.stderr)
	}
	wantHits(t, srv, failing, 20, 1, 1, "after --retry-failed=404,timeout")
	out, res := runInRaw("", append(args, "--retry-failed")...)
	if res.code != exitSomeFailed || len(out) != 0 {
		t.Fatalf("--retry-failed: exit %d, stdout %q, stderr %s", res.code, out, res.stderr)
	}
	wantHits(t, srv, failing, 20, 1, 2, "after --retry-failed")

	outFile := filepath.Join(t.TempDir(), "out.jsonl")
	if _, res := runInRaw("", append(args, "-q", "-o", outFile)...); res.code != exitSomeFailed {
		t.Fatalf("-o from the job: exit %d, stderr %s", res.code, res.stderr)
	}
	wantHits(t, srv, failing, 20, 1, 2, "after -o")
	b, _ := os.ReadFile(outFile)
	lines := parseFlowLines(t, b)
	if len(lines) != 20 {
		t.Fatalf("-o from the job: %d lines, want 20:\n%s", len(lines), b)
	}
	for i, l := range lines {
		id := fmt.Sprintf("r%d", i+1)
		switch {
		case l.Line != i+1:
			t.Fatalf("-o line %d holds record %d: not in input order", i+1, l.Line)
		case failing[id] && (l.Error == nil || l.Error.Step != "b" || l.Error.Status != 500):
			t.Errorf("record %s: %q, want failed at b with 500", id, l.raw)
		case !failing[id] && (l.Error != nil || string(l.Output) != `{"from_a":"/a/`+id+`"}`):
			t.Errorf("record %s: %q", id, l.raw)
		}
	}
}

// A job file made by gather fetch is not a flow run's: refused, exit 2,
// nothing run and the job left as it was.
func TestRunRefusesAFetchJob(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	jobFile := filepath.Join(dir, "fetch.db")
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/f/", 3, ""))
	if res := gather(t, "", "fetch", "-q", "--job", jobFile, urls); res.code != exitOK {
		t.Fatalf("gather fetch: exit %d: %s", res.code, res.stderr)
	}
	before := srv.Stats().Requests
	flowPath := runFlowFile(t, "echo_input.yaml", srv.URL())
	out, res := runInRaw("", "run", flowPath, "--input", urls, "--job", jobFile)
	want := "gather: --job " + jobFile + " is a job of gather fetch, not of a flow: give gather run a job file of its own\n"
	if res.code != exitUsage || len(out) != 0 || res.stderr != want {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, out, res.stderr)
	}
	if n := srv.Stats().Requests; n != before {
		t.Errorf("%d requests by the refused run", n-before)
	}
	if got := len(storedLines(t, jobFile)); got != 3 {
		t.Errorf("the fetch job holds %d results after the refusal, want 3", got)
	}
}

// A job run again with the flow file edited is refused, exit 2, with a
// message naming the flow; the job's results stay.
func TestRunRefusesAJobWithAnEditedFlow(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := runFlowFile(t, "two_steps.yaml", srv.URL(), "LATENCY", "0s")
	in, _ := jobRecords(t, 3)
	jobFile := filepath.Join(t.TempDir(), "j.db")
	args := []string{"run", flowPath, "--input", in, "--job", jobFile, "-q"}
	if _, res := runInRaw("", args...); res.code != exitOK {
		t.Fatalf("first run: exit %d: %s", res.code, res.stderr)
	}
	f, err := os.OpenFile(flowPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("# edited\n")
	f.Close()
	before := srv.Stats().Requests
	out, res := runInRaw("", args...)
	if res.code != exitUsage || len(out) != 0 || !strings.Contains(res.stderr, "the flow file's content was \"sha256:") ||
		!strings.HasPrefix(res.stderr, "gather: --job: "+jobFile+": ") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 naming the flow file", res.code, out, res.stderr)
	}
	if n := srv.Stats().Requests; n != before {
		t.Errorf("%d requests by the refused run", n-before)
	}
	if got := len(storedResults(t, jobFile)); got != 3 {
		t.Errorf("%d results in the job, want 3", got)
	}
}

// --per-host is one limit for every step of every record: with -c 20 and
// a two-step flow against one host, the host never sees more than 3
// requests at once.
func TestRunPerHostLimitSharedByRecordsAndSteps(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	flowPath := runFlowFile(t, "two_steps.yaml", srv.URL(), "LATENCY", "20ms")
	in, _ := jobRecords(t, 40)
	out, res := runInRaw("", "run", flowPath, "--input", in, "-c", "20", "--per-host", "3", "-q")
	if res.code != exitSomeFailed || len(parseFlowLines(t, out)) != 40 {
		t.Fatalf("exit %d, %d bytes of output; stderr %s", res.code, len(out), res.stderr)
	}
	peaks := srv.Stats().MaxConcurrent
	if len(peaks) != 1 {
		t.Fatalf("hosts seen: %v", peaks)
	}
	for host, peak := range peaks {
		t.Logf("%s: at most %d requests at once (--per-host 3, -c 20, 2 steps)", host, peak)
		if peak > 3 || peak < 1 {
			t.Errorf("%s saw %d requests at once, --per-host 3", host, peak)
		}
	}
	if n := srv.Stats().Requests; n != 80 {
		t.Errorf("%d requests, want 80 (2 steps x 40 records)", n)
	}
}
