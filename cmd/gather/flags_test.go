package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// Bad flag values are usage errors: exit 2, one line, before any request.
func TestBadFlagValuesAreUsageErrors(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	urls := writeTestFile(t, dir, "urls.txt", urlLines(srv, "/b/", 3, ""))
	for _, args := range [][]string{
		{"--timeout", "-1s"},
		{"--timeout", "0s"},
		{"--timeout-connect", "-1s"},
		{"--timeout-headers", "-5ms"},
		{"--timeout-tls", "-1s"},
		{"--deadline", "-1s"},
		{"--job", filepath.Join(dir, "g.db"), "--grace", "-1s"},
		{"--retries", "-1"},
		{"--retries", "1000000000"},
		{"--break-after", "-1"},
		{"--job", filepath.Join(dir, "e.db"), "--retry-failed="},
		{"--job", filepath.Join(dir, "o.db"), "--retry-failed=ok"},
		{"--break-after", "3", "--break-cooldown", "0s"},
		{"--max-redirects", "-2"},
		{"--rate", "NaN"},
		{"--rate", "Inf"},
		{"--rate", "-1"},
		{"--rate", "1e-300"},
		{"--per-host-rate", "NaN"},
		{"--per-host-rate", "1e-9"},
		{"-X", "GET X"},
		{"-X", ""},
		{"-X", "G\"ET"},
		{"--job", ""},
		{"-o", ""},
		{"--stats", ""},
		{"--stats", dir},
		{"--stats", filepath.Join(dir, "no", "such", "dir", "s.json")},
		{"-o", dir},
		{"-c", "0"},
		{"-c", "-3"},
		{"-c", "100000000"},
		{"--per-host", "-1"},
		{"--max-body", "0"},
		{"--max-body", "-1"},
		{"--max-body", "lots"},
		{"--body", "head", "--body-head", "0"},
		{"--data", "x", "--json", "{}"},
	} {
		res := runIn(t, "", append([]string{"fetch", urls}, args...)...)
		if res.code != exitUsage || !strings.HasPrefix(res.stderr, "gather: ") || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want a usage error of one line", args, res.code, res.stderr)
		}
	}
	// A directory as the input.
	if res := runIn(t, "", "fetch", dir); res.code != exitUsage || !strings.Contains(res.stderr, "directory") {
		t.Errorf("a directory as input: exit %d, %q", res.code, res.stderr)
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("%d requests sent by runs refused", n)
	}
}

// Sizes take units in every flag that takes a size; plain integers still
// work.
func TestSizeFlagsTakeUnits(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	url := srv.URL() + "/big?size=600000\n"
	for _, c := range []struct {
		maxBody string
		tooBig  bool
	}{{"512k", true}, {"500KiB", true}, {"1MB", false}, {"10MiB", false}, {"1048576", false}, {"600000", false}, {"599999", true}} {
		res := runIn(t, url, "fetch", "-q", "--max-body", c.maxBody)
		if res.code == exitUsage || len(res.records) != 1 {
			t.Fatalf("--max-body %s: exit %d, %s", c.maxBody, res.code, res.stderr)
		}
		r := res.records[0]
		if got := r.Error != nil && r.Error.Kind == fetch.KindTooLarge; got != c.tooBig {
			t.Errorf("--max-body %s: a 600000-byte body too large: %v, want %v (%+v)", c.maxBody, got, c.tooBig, r.Error)
		}
	}
	res := runIn(t, srv.URL()+"/h?size=5000\n", "fetch", "-q", "--body", "head", "--body-head", "1k")
	var body string
	if len(res.records) != 1 || json.Unmarshal(res.records[0].Body, &body) != nil || len(body) != 1000 {
		t.Fatalf("--body-head 1k: exit %d, %+v, %s", res.code, res.records, res.stderr)
	}
}

// A rate that makes a run impossible is refused; Ctrl-C ends a rate wait
// at once.
func TestCtrlCEndsARateWait(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	urls := writeTestFile(t, t.TempDir(), "urls.txt", urlLines(srv, "/r/", 3, ""))
	cmd := exec.Command(binary, "fetch", "-q", "--rate", "0.001", urls) // one request every 1000 s
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the first request", 20*time.Second, func() bool { return srv.Stats().Requests == 1 })
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
			t.Fatalf("exit %v, want %d", err, exitInterrupted)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("Ctrl-C did not end the rate wait")
	}
}

// --version and gather version print the module's version and the VCS
// revision the binary was built from (when the build recorded one).
func TestVersion(t *testing.T) {
	ao, a := runInRaw("", "--version")
	bo, b := runInRaw("", "version")
	out := func(args ...string) string {
		o, err := exec.Command(binary, args...).Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return string(o)
	}
	v1, v2 := out("--version"), out("version")
	if a.code != 0 || b.code != 0 || string(ao) != string(bo) || !strings.HasPrefix(string(ao), "gather ") || v1 != v2 || !strings.HasPrefix(v1, "gather ") || !strings.Contains(v1, "go1.") {
		t.Fatalf("--version %q, version %q (in process: exit %d, %d)", v1, v2, a.code, b.code)
	}
	if !strings.Contains(v1, "revision") {
		t.Errorf("no word on the revision: %q", v1)
	}
	t.Logf("%s", v1)
}

func TestFormatVersionNamesTheRevision(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/gogather/gather", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "1e68f9e6"}, {Key: "vcs.time", Value: "2026-11-30T11:40:45Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := formatVersion(bi), "gather v1.2.3 (revision 1e68f9e6, modified, 2026-11-30T11:40:45Z), go1.26.8"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

// demo -o - writes the records to standard output, as fetch -o - does;
// its count flag is --count (-n), --n still works.
func TestDemoOutputAndCount(t *testing.T) {
	for _, args := range [][]string{{"-n", "7"}, {"--count", "7"}, {"--n", "7"}} {
		res := gather(t, "", append([]string{"demo", "--latency", "1ms", "--jitter", "1ms", "-o", "-"}, args...)...)
		if res.code != 0 || len(res.records) != 7 {
			t.Errorf("demo %v -o -: exit %d, %d records on stdout: %s", args, res.code, len(res.records), res.stderr)
		}
	}
	if res := gather(t, "", "demo", "-n", "3", "--latency", "1ms"); res.code != 0 || len(res.records) != 0 {
		t.Errorf("demo without -o: exit %d, %d records on stdout", res.code, len(res.records))
	}
	help, _ := exec.Command(binary, "demo", "--help").Output()
	if !strings.Contains(string(help), "--count") || strings.Contains(string(help), "--n ") {
		t.Errorf("demo --help:\n%s", help)
	}
}

// --json sends its body with Content-Type and Accept application/json
// (unless -H sets them), POST unless -X says otherwise; --data sends
// application/x-www-form-urlencoded, as curl's -d.
func TestJSONAndDataContentTypes(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	bodyFile := writeTestFile(t, dir, "body.json", `{"from":"file"}`)
	type echo struct {
		Method  string              `json:"method"`
		Headers map[string][]string `json:"headers"`
		Body    string              `json:"body"`
	}
	send := func(args ...string) echo {
		t.Helper()
		res := runIn(t, `{"id":7}`+"\n", append([]string{"fetch", "-q", "--input-format", "jsonl", "--url", srv.URL() + "/e?echo=1", "--body", "text"}, args...)...)
		if res.code != 0 || len(res.records) != 1 {
			t.Fatalf("%v: exit %d, %s", args, res.code, res.stderr)
		}
		var e echo
		if err := json.Unmarshal(res.records[0].Body, &e); err != nil {
			t.Fatalf("%v: %s: %v", args, res.records[0].Body, err)
		}
		return e
	}
	hdr := func(e echo, name string) string { return strings.Join(e.Headers[name], ",") }
	e := send("--json", `{"id": ${{ .id }}}`)
	if e.Method != "POST" || e.Body != `{"id": 7}` || hdr(e, "Content-Type") != "application/json" || hdr(e, "Accept") != "application/json" {
		t.Errorf("--json: %+v", e)
	}
	e = send("--json", "@"+bodyFile, "-X", "PUT", "-H", "Accept: text/plain")
	if e.Method != "PUT" || e.Body != `{"from":"file"}` || hdr(e, "Content-Type") != "application/json" || hdr(e, "Accept") != "text/plain" {
		t.Errorf("--json @file -X PUT -H Accept: %+v", e)
	}
	e = send("--data", "a=1&b=2")
	if e.Method != "POST" || e.Body != "a=1&b=2" || hdr(e, "Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("--data: %+v", e)
	}
	e = send("--data", "x", "-H", "Content-Type: text/plain")
	if hdr(e, "Content-Type") != "text/plain" {
		t.Errorf("--data with -H Content-Type: %+v", e)
	}
	e = send()
	if e.Method != "GET" || hdr(e, "Content-Type") != "" {
		t.Errorf("no body: %+v", e)
	}
}

// gather upstream --size takes a size with a unit too.
func TestUpstreamSizeTakesUnits(t *testing.T) {
	cmd := exec.Command(binary, "upstream", "--addr", "127.0.0.1:0", "--size", "2KiB")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	var base string
	line, _ := bufio.NewReader(stderr).ReadString('\n')
	for _, w := range strings.Fields(line) {
		if strings.HasPrefix(w, "http://") {
			base = w
			break
		}
	}
	if base == "" {
		t.Fatalf("gather upstream --size 2KiB: %q", line)
	}
	res := runIn(t, base+"/x\n", "fetch", "-q")
	if len(res.records) != 1 || res.records[0].Bytes != 2048 {
		t.Fatalf("%+v", res.records)
	}
}
