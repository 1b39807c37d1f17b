package examples_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/flow"
	"github.com/gogather/gather/internal/gathertest"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/gogather/gather/serve"
)

// base is the demo API's address the examples are written with: a user
// starts gather upstream --addr 127.0.0.1:8080 first. The tests put their
// own server's in its place.
const base = "http://127.0.0.1:8080"

// binary is the gather command, built from ../cmd/gather by TestMain: the
// examples run as a user runs them.
var binary string

func TestMain(m *testing.M) { gathertest.Main(m, "../cmd/gather", &binary) }

// example returns a copy of examples/name in a temporary directory, with
// srv's URL in place of base.
func example(t *testing.T, srv *upstream.Server, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(base+"/demo/")) {
		t.Fatalf("%s does not use the demo API at %s", name, base)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, bytes.ReplaceAll(data, []byte(base), []byte(srv.URL())), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// gather runs the built command and returns its standard output, failing
// the test unless it exits 0.
func gather(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gather %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

// runResult is a line of gather run.
type runResult struct {
	Line   int                       `json:"line"`
	Output any                       `json:"output"`
	Steps  map[string]map[string]any `json:"steps"`
	Error  map[string]any            `json:"error"`
}

// runOnce runs a flow once and returns its result, failing the test
// unless every step is ok.
func runOnce(t *testing.T, path string) runResult {
	t.Helper()
	out := gather(t, "run", path)
	var res runResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("the output is not one JSON object: %q: %v", out, err)
	}
	checkSteps(t, res)
	return res
}

func checkSteps(t *testing.T, res runResult) {
	t.Helper()
	if res.Error != nil {
		t.Errorf("line %d failed: %v", res.Line, res.Error)
	}
	for name, s := range res.Steps {
		if s["status"] != "ok" {
			t.Errorf("line %d: step %s: %v", res.Line, name, s)
		}
	}
}

// jsonValue decodes s, as the results are decoded.
func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// summaries returns what the demo API was POSTed at /demo/summaries.
func summaries(t *testing.T, srv *upstream.Server) []any {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	resp, err := c.Get(srv.URL() + "/demo/summaries")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Summaries []any }
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET /demo/summaries: %q: %v", body, err)
	}
	return v.Summaries
}

// maxConcurrent is the most requests the server had in progress at once.
func maxConcurrent(srv *upstream.Server) int64 {
	return srv.Stats().MaxConcurrent[srv.Addr()]
}

func TestEveryExampleIsAValidFlowThatGatherCheckAccepts(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v %v", files, err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasPrefix(name, "gateway") { // a gateway, not a flow: TestGatewayExampleChecks
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := flow.Parse(name, data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if out := gather(t, "check", name); !bytes.HasPrefix(out, []byte(name+": ok")) {
			t.Errorf("gather check %s: %s", name, out)
		}
		if !bytes.Contains(readme, []byte("gather run examples/"+name)) {
			t.Errorf("README.md has no line running %s", name)
		}
	}
}

func TestGatewayExampleChecks(t *testing.T) {
	if _, err := serve.Load("gateway.yaml"); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("gather serve examples/gateway.yaml")) {
		t.Error("README.md has no line serving gateway.yaml")
	}
}

func TestClassicRunsItsTwoGETsAtOnceAndPostsTheOrdersJSON(t *testing.T) {
	// Each answer waits 300ms, so that the two GETs are both in progress
	// on the server, the evidence that they overlapped.
	srv := upstreamtest.Start(t, upstream.Config{Latency: 300 * time.Millisecond})
	start := time.Now()
	res := runOnce(t, example(t, srv, "classic.yaml"))
	took := time.Since(start)
	order := `{"id": 7, "customer": "demo", "items": [71, 72]}`
	want := jsonValue(t, `{"quote": "Simple things should be simple, complex things should be possible.", "saved": `+order+`}`)
	if !reflect.DeepEqual(res.Output, want) {
		t.Errorf("output %v, want %v", res.Output, want)
	}
	if n := maxConcurrent(srv); n < 2 {
		t.Errorf("at most %d request in progress at once: the two GETs did not overlap", n)
	}
	t.Logf("3 requests of 300ms each, two of them at once: the run took %v", took)
	if got := summaries(t, srv); !reflect.DeepEqual(got, []any{jsonValue(t, order)}) {
		t.Errorf("the API received %v, want the order", got)
	}
}

func TestFeedGreetsWithTheLatin1FeedsTitleAndLastBuildDate(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	path := example(t, srv, "feed.yaml")
	data, _ := os.ReadFile(path)
	f, err := flow.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if d := f.Steps["feed"].Timeout; d != 10*time.Second {
		t.Errorf("the feed step's timeout is %v, want 10s", d)
	}
	res := runOnce(t, path)
	if want := "Hello! Café Gather was last built on Sun, 01 Nov 2026 09:30:00 GMT."; res.Output != want {
		t.Errorf("output %q, want %q", res.Output, want)
	}
}

func TestLoginFetchesThreeResourcesWithTheTokenAndCombinesThem(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{Latency: 300 * time.Millisecond})
	res := runOnce(t, example(t, srv, "login.yaml"))
	want := jsonValue(t, `{"name": "Ada Lovelace", "orders": [1, 2, 3], "unread": 2}`)
	if !reflect.DeepEqual(res.Output, want) {
		t.Errorf("output %v, want %v", res.Output, want)
	}
	st := srv.Stats()
	for _, p := range []string{"/demo/login", "/demo/me", "/demo/orders", "/demo/messages"} {
		if st.ByPath[p] != 1 {
			t.Errorf("%s requested %d times, want once", p, st.ByPath[p])
		}
	}
	if n := maxConcurrent(srv); n < 2 {
		t.Errorf("at most %d request in progress at once: the three resources were fetched one by one", n)
	} else {
		t.Logf("%d requests in progress at once (3 when the three resources all overlapped)", n)
	}
}

func TestOrdersFetchesEachOrdersItemsAndPostsOneSummaryPerRecord(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	out := gather(t, "run", example(t, srv, "orders.yaml"), "--input", "orders.jsonl", "-q")
	var got []runResult
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var res runResult
		if err := json.Unmarshal(line, &res); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		checkSteps(t, res)
		got = append(got, res)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Line < got[j].Line })
	// Order n has items n*10+1, ... (n%3+1 of them), item i costs i%10+1.
	want := []any{
		jsonValue(t, `{"order": 1, "items": 2, "total": 5}`),
		jsonValue(t, `{"order": 2, "items": 3, "total": 9}`),
		jsonValue(t, `{"order": 7, "items": 2, "total": 5}`),
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), out)
	}
	for i, res := range got {
		if res.Line != i+1 || !reflect.DeepEqual(res.Output, want[i]) {
			t.Errorf("line %d: output %v, want line %d: %v", res.Line, res.Output, i+1, want[i])
		}
	}
	received := summaries(t, srv)
	sort.Slice(received, func(i, j int) bool {
		return fmt.Sprint(received[i].(map[string]any)["order"]) < fmt.Sprint(received[j].(map[string]any)["order"])
	})
	if !reflect.DeepEqual(received, want) {
		t.Errorf("the API received %v, want %v", received, want)
	}
	st := srv.Stats()
	for _, item := range []int{11, 12, 21, 22, 23, 71, 72} {
		if p := fmt.Sprintf("/demo/items/%d", item); st.ByPath[p] != 1 {
			t.Errorf("%s requested %d times, want once", p, st.ByPath[p])
		}
	}
}

func TestPipeSortsTheWordsWithSortAndUsesItsOutput(t *testing.T) {
	if _, err := exec.LookPath("sort"); errors.Is(err, exec.ErrNotFound) {
		t.Skip("no sort program on this machine")
	}
	srv := upstreamtest.Start(t, upstream.Config{})
	res := runOnce(t, example(t, srv, "pipe.yaml"))
	want := jsonValue(t, `["apple", "banana", "cherry", "fig", "kiwi", "pear"]`)
	if !reflect.DeepEqual(res.Output, want) {
		t.Errorf("output %v, want %v", res.Output, want)
	}
}
