package flow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/flow"
	"github.com/gogather/gather/template"
)

// api is a small JSON API on 127.0.0.1 that records when each request
// arrived and ended.
type api struct {
	*httptest.Server
	mu    sync.Mutex
	spans map[string][2]time.Time // path -> start, end
	hits  map[string]int
}

func newAPI(t *testing.T, latency time.Duration) *api {
	a := &api{spans: map[string][2]time.Time{}, hits: map[string]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		a.mu.Lock()
		a.hits[r.URL.Path]++
		n := a.hits[r.URL.Path]
		a.mu.Unlock()
		wait := latency
		if d := r.URL.Query().Get("sleep"); d != "" {
			wait, _ = time.ParseDuration(d)
		}
		select {
		case <-time.After(wait):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("X-Seq", fmt.Sprint(n))
		switch {
		case strings.HasPrefix(r.URL.Path, "/status/"):
			var code int
			fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/status/"), &code)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			fmt.Fprintf(w, `{"code":%d}`, code)
		case r.URL.Path == "/flaky": // fails twice, then answers
			if n <= 2 {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			fmt.Fprint(w, "fine")
		case r.URL.Path == "/text":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "plain text")
		default:
			var body any
			d := json.NewDecoder(r.Body)
			d.UseNumber()
			d.Decode(&body)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery, "body": body,
				"big": json.Number("12345678901234567890"), "items": []int{1, 2, 3},
				"auth": r.Header.Get("Authorization"),
			})
		}
		a.mu.Lock()
		a.spans[r.URL.Path] = [2]time.Time{start, time.Now()}
		a.mu.Unlock()
	}))
	t.Cleanup(a.Close)
	return a
}

func engine(t *testing.T, src string, a *api) *flow.Engine {
	t.Helper()
	if a != nil {
		src = strings.ReplaceAll(src, "API", a.URL)
	}
	f, err := flow.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c, err := fetch.New(fetch.Config{Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	e, err := flow.NewEngine(f, flow.Config{Client: c, Grace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func line(t *testing.T, r *flow.Result) string {
	t.Helper()
	b, err := r.AppendJSON(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunPassesValuesWithTheirTypes(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  get:
    http: {url: "API/users/${{ .input.id }}"}
  post:
    http:
      method: POST
      url: API/save
      json:
        big: "${{ .steps.get.body.big }}"
        items: "${{ .steps.get.body.items }}"
        text: "id ${{ .input.id }} has ${{ .steps.get.body.items | length }} items"
        none: "${{ .steps.get.body.missing }}"
output:
  sent: "${{ .steps.post.body.body }}"
  status: "${{ .steps.post.status }}"
  type: "${{ .steps.post.headers[\"content-type\"] }}"
`, a)
	r := e.Run(context.Background(), map[string]any{"id": 7})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got, _ := json.Marshal(r.Output)
	want := `{"sent":{"big":12345678901234567890,"items":[1,2,3],"none":null,"text":"id 7 has 3 items"},"status":200,"type":"application/json"}`
	if string(got) != want {
		t.Errorf("output\n got %s\nwant %s", got, want)
	}
}

// A body read only at some keys is decoded only there (see "Costs");
// read whole, it is whole.
func TestBodyReadAtKeysIsDecodedAtThoseKeys(t *testing.T) {
	a := newAPI(t, 0)
	for _, c := range []struct{ output, body string }{
		{`{p: "${{ .steps.get.body.path }}", b: "${{ .steps.get.body.big }}"}`, `{"big":12345678901234567890,"path":"/x"}`},
		{`{p: "${{ .steps.get.body.path }}", n: "${{ .steps.get.body | length }}"}`,
			`{"auth":"","big":12345678901234567890,"body":null,"items":[1,2,3],"method":"GET","path":"/x","query":""}`},
	} {
		e := engine(t, "steps:\n  get: {http: {url: \"API/x\"}}\noutput: "+c.output+"\n", a)
		r := e.Run(context.Background(), nil)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		body, _ := json.Marshal(r.Steps[0].Value.(map[string]any)["body"])
		if string(body) != c.body {
			t.Errorf("%s: body %s, want %s", c.output, body, c.body)
		}
	}
}

// A method is letters only, whether it is written as it is, escaped, or
// made by an expression.
func TestMethodIsLettersOnly(t *testing.T) {
	a := newAPI(t, 0)
	for method, want := range map[string]string{
		"PUT":                      `{"m":"PUT"}`,
		"${{ .input.m }}":          `{"m":"PATCH"}`,
		"P$${{ .input.m }}":        `method "P${{ .input.m }}": an HTTP method is letters only`,
		"${{ .input.m + \" X\" }}": `method "PATCH X": an HTTP method is letters only`,
	} {
		e := engine(t, "steps:\n  a: {http: {url: \"API/x\", method: '"+method+"'}}\noutput: {m: \"${{ .steps.a.body.method }}\"}\n", a)
		r := e.Run(context.Background(), map[string]any{"m": "PATCH"})
		got := ""
		if r.Err != nil {
			got = r.Err.Message
		} else {
			b, _ := json.Marshal(r.Output)
			got = string(b)
		}
		if got != want {
			t.Errorf("method %s: got %s, want %s", method, got, want)
		}
	}
}

func TestIndependentStepsOverlapAndDependentsWait(t *testing.T) {
	a := newAPI(t, 150*time.Millisecond)
	e := engine(t, `
steps:
  a: {http: {url: API/a}}
  b: {http: {url: API/b}}
  c: {http: {url: "API/c?from=${{ .steps.a.status }}"}}
`, a)
	if r := e.Run(context.Background(), nil); r.Err != nil {
		t.Fatal(r.Err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	sa, sb, sc := a.spans["/a"], a.spans["/b"], a.spans["/c"]
	if !sa[0].Before(sb[1]) || !sb[0].Before(sa[1]) {
		t.Errorf("a %v and b %v did not overlap", sa, sb)
	}
	if sc[0].Before(sa[1]) {
		t.Errorf("c started at %v, before a ended at %v", sc[0], sa[1])
	}
}

func TestFailedRequiredStepSkipsDependentsAndFailsTheRun(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  a: {http: {url: API/status/500}}
  b: {http: {url: "API/b?x=${{ .steps.a.status }}"}}
  c: {needs: [b], http: {url: API/c}}
  d: {http: {url: API/d}}
`, a)
	r := e.Run(context.Background(), nil)
	got := line(t, r)
	for _, want := range []string{
		`"output":null`,
		`"a":{"error":{"kind":"http_status","message":"500 Internal Server Error"},"ms":`,
		`"b":{"ms":0,"reason":"dependency failed","status":"skipped"}`,
		`"c":{"ms":0,"reason":"dependency failed","status":"skipped"}`,
		`"error":{"kind":"http_status","message":"500 Internal Server Error","status":500,"step":"a"}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("%s\nhas no %s", got, want)
		}
	}
	if !strings.Contains(got, `"d":{"ms":`) || a.hits["/d"] != 1 || a.hits["/b"] != 0 {
		t.Errorf("d should run and b not: %s, hits %v", got, a.hits)
	}
}

func TestOptionalStepFailureKeepsTheRunAndItsDependents(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  a: {optional: true, http: {url: API/status/404}}
  b: {http: {url: "API/b?x=${{ .steps.a.status }}"}}
output: {a: "${{ .steps.a.error.kind }}", b: "${{ .steps.b.body.query }}"}
`, a)
	r := e.Run(context.Background(), nil)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got, _ := json.Marshal(r.Output)
	if string(got) != `{"a":"http_status","b":"x=404"}` {
		t.Errorf("output %s", got)
	}
}

func TestIfFalseSkipsWithoutFailing(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  a: {if: "${{ .input.go }}", http: {url: API/a}}
  b: {http: {url: "API/b?a=${{ .steps.a.status }}"}}
`, a)
	r := e.Run(context.Background(), map[string]any{"go": false})
	got := line(t, r)
	if r.Err != nil || !strings.Contains(got, `"reason":"if was false","status":"skipped"}`) || a.hits["/a"] != 0 || a.hits["/b"] != 1 {
		t.Errorf("%s, hits %v", got, a.hits)
	}
}

func TestForEachGathersInOrder(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  list: {http: {url: API/list}}
  each:
    for_each: "${{ .steps.list.body.items }}"
    concurrency: 2
    http: {url: "API/item/${{ .item }}?i=${{ .index }}&sleep=${{ 40 - .item * 10 }}ms"}
output: "${{ [.steps.each[].body.path] }}"
`, a)
	r := e.Run(context.Background(), nil)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got, _ := json.Marshal(r.Output)
	if string(got) != `["/item/1","/item/2","/item/3"]` {
		t.Errorf("output %s", got)
	}
}

func TestAssertNamesTheFalseOne(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  a:
    http: {url: API/a}
    assert: ["${{ .status == 200 }}", "${{ .body.method == \"POST\" }}"]
`, a)
	r := e.Run(context.Background(), nil)
	if r.Err == nil || r.Err.Kind != "assert" || r.Err.Message != `assert failed: ${{ .body.method == "POST" }}` {
		t.Errorf("err %+v", r.Err)
	}
}

func TestRetriesRunTheStepAgain(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  a: {retries: 2, http: {url: API/flaky}}
output: "${{ .steps.a.text }}"
`, a)
	r := e.Run(context.Background(), nil)
	if r.Err != nil || r.Output != "fine" || a.hits["/flaky"] != 3 || r.Retries != 2 {
		t.Errorf("err %v output %v hits %d retries %d", r.Err, r.Output, a.hits["/flaky"], r.Retries)
	}
}

func TestStepTimeout(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  a: {timeout: 100ms, http: {url: "API/a?sleep=2s"}}
`, a)
	start := time.Now()
	r := e.Run(context.Background(), nil)
	if r.Err == nil || r.Err.Kind != "timeout" || r.Err.Message != "the step's timeout of 100ms passed" {
		t.Errorf("err %+v", r.Err)
	}
	if time.Since(start) > 1500*time.Millisecond {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestExecPipesAResponseThroughAProgram(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  get: {http: {url: API/text}}
  upper:
    exec:
      command: [tr, a-z, A-Z]
      stdin: "${{ .steps.get.text }}"
  fail:
    optional: true
    exec: {command: [sh, -c, "echo oops >&2; exit 3"]}
output: {up: "${{ .steps.upper.stdout }}", code: "${{ .steps.fail.exit_code }}", err: "${{ .steps.fail.error }}"}
`, a)
	r := e.Run(context.Background(), nil)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	got, _ := json.Marshal(r.Output)
	want := `{"code":3,"err":{"kind":"exit_status","message":"\"sh\" exited with code 3: oops"},"up":"PLAIN TEXT"}`
	if string(got) != want {
		t.Errorf("output\n got %s\nwant %s", got, want)
	}
}

func TestCancelEndsTheRunCanceled(t *testing.T) {
	a := newAPI(t, 0)
	e := engine(t, `
steps:
  slow: {http: {url: "API/a?sleep=5s"}}
  after: {http: {url: "API/b?x=${{ .steps.slow.status }}"}}
  proc: {exec: {command: [sleep, "10"]}}
`, a)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := e.Run(ctx, nil)
	if !r.Canceled || r.Err == nil || r.Err.Kind != "canceled" {
		t.Errorf("result %s", line(t, r))
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// limits are small expression limits for tests that evaluate arbitrary expressions.
var limits = template.Limits{Time: 100 * time.Millisecond, Bytes: 1 << 16}

// An if or an assert takes booleans, null, and the text true or false (a
// CSV cell): not jq's truth, in which "false", "" and 0 are true.
func TestConditionsTakeBooleansNotTruth(t *testing.T) {
	e := engine(t, `
steps:
  s:
    if: "${{ .input.c }}"
    exec: {command: ["true"]}
`, nil)
	for _, c := range []struct {
		in   any
		want string // the step's status, or its error
	}{
		{true, "ok"}, {false, "skipped"}, {nil, "skipped"},
		{"false", "skipped"}, {"FALSE", "skipped"}, {"True", "ok"},
		{"", `if: gave the string "", not true or false (compare it: ${{ .x == "yes" }})`},
		{"no", `if: gave the string "no", not true or false (compare it: ${{ .x == "yes" }})`},
		{0.0, "if: gave number 0, not true or false (compare it: ${{ .n > 0 }}, ${{ .list | length > 0 }})"},
		{[]any{}, "if: gave array [], not true or false (compare it: ${{ .n > 0 }}, ${{ .list | length > 0 }})"},
	} {
		r := e.Run(context.Background(), map[string]any{"c": c.in})
		got := string(r.Steps[0].Status)
		if r.Steps[0].Error != nil {
			got = r.Steps[0].Error.Message
		}
		if got != c.want {
			t.Errorf("%#v: %s, want %s", c.in, got, c.want)
		}
	}
}

// A step with cache answers from the engine's cache within its time,
// shared by every run, unless the answer's Cache-Control forbids it.
func TestCacheKeepsAnswersAsCacheControlAllows(t *testing.T) {
	var hits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := hits.LoadOrStore(r.URL.Path, new(int))
		*n.(*int)++
		w.Header().Set("Cache-Control", r.URL.Query().Get("cc"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"n": %d}`, *n.(*int))
	}))
	defer srv.Close()
	e := engine(t, strings.ReplaceAll(`
steps:
  s:
    cache: 1m
    http: {url: "API${{ .input.path }}?cc=${{ .input.cc }}"}
output: {n: "${{ .steps.s.body.n }}", cached: "${{ .steps.s.cached }}"}
`, "API", srv.URL), nil)
	for _, c := range []struct {
		path, cc string
		want     string // the two runs' outputs
	}{
		{"/plain", "", `{"cached":null,"n":1} {"cached":true,"n":1}`},
		{"/maxage", "max-age=60", `{"cached":null,"n":1} {"cached":true,"n":1}`},
		{"/nostore", "no-store", `{"cached":null,"n":1} {"cached":null,"n":2}`},
		{"/private", "private, max-age=60", `{"cached":null,"n":1} {"cached":null,"n":2}`},
		{"/zero", "max-age=0", `{"cached":null,"n":1} {"cached":null,"n":2}`},
	} {
		var got []string
		for range 2 {
			r := e.Run(context.Background(), map[string]any{"path": c.path, "cc": c.cc})
			b, _ := json.Marshal(r.Output)
			got = append(got, string(b))
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s %q: %s, want %s", c.path, c.cc, g, c.want)
		}
	}
}

// Runs missing the same cached answer at once share one request.
func TestCacheSharesOneCallAmongRunsMissingAtOnce(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(200 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"n": 1}`)
	}))
	defer srv.Close()
	e := engine(t, strings.ReplaceAll(`
steps:
  s: {cache: 1m, http: {url: "API/x"}}
output: "${{ .steps.s.body.n }}"
`, "API", srv.URL), nil)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if r := e.Run(context.Background(), nil); r.Err != nil || fmt.Sprint(r.Output) != "1" {
				t.Errorf("err %v output %v", r.Err, r.Output)
			}
		})
	}
	wg.Wait()
	if n := hits.Load(); n != 1 {
		t.Errorf("10 runs at once asked the upstream %d times, want 1", n)
	}
}
