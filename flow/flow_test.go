package flow_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/flow"
)

// src trims the leading newline of a raw string literal, so that line 1 is
// the first line written.
func src(s string) []byte { return []byte(strings.TrimPrefix(s, "\n")) }

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"yaml syntax", `
steps:
  a:
    http: {url: x
`, []string{`f.yaml:3:1: invalid YAML: did not find expected ',' or '}'`}},
		{"yaml tab", "steps:\n\ta: 1\n", []string{`f.yaml:2:1: invalid YAML: found character that cannot start any token`}},
		{"empty", "", []string{`f.yaml:1:1: empty flow: a flow is a mapping with "steps"`}},
		{"not a mapping", "- a\n", []string{`f.yaml:1:1: the flow must be a mapping, not a list`}},
		{"no steps", "output: 1\n", []string{`f.yaml:1:1: the flow has no "steps"`}},
		{"empty steps", "steps: {}\n", []string{`f.yaml:1:8: "steps" is empty: a flow needs at least one step`}},
		{"steps a list", "steps:\n  - a\n", []string{`f.yaml:2:3: "steps" must be a mapping, not a list`}},
		{"unknown top key", `
step:
  a: {}
steps:
  a:
    http: {url: x}
`, []string{`f.yaml:1:1: unknown key "step" in the flow (did you mean "steps"?)`}},
		{"did you mean needs", `
steps:
  a:
    http: {url: "https://x"}
  b:
    neeeds: [a]
    http: {url: "https://x"}
`, []string{`f.yaml:5:5: unknown key "neeeds" in step "b" (did you mean "needs"?)`}},
		{"did you mean retries", `
steps:
  a:
    retry: 2
    http: {url: x}
`, []string{`f.yaml:3:5: unknown key "retry" in step "a" (did you mean "retries"?)`}},
		{"unknown key, no suggestion", `
steps:
  a:
    zzzzzz: 1
    http: {url: x}
`, []string{`f.yaml:3:5: unknown key "zzzzzz" in step "a"`}},
		{"unknown http key", `
steps:
  a:
    http: {url: x, header: {a: b}}
`, []string{`f.yaml:3:20: unknown key "header" in "http" of step "a" (did you mean "headers"?)`}},
		{"unknown exec key", `
steps:
  a:
    exec: {cmd: [ls], command: [ls]}
`, []string{`f.yaml:3:12: unknown key "cmd" in "exec" of step "a"`}},
		{"both http and exec", `
steps:
  a:
    http: {url: x}
    exec: {command: [ls]}
`, []string{`f.yaml:4:5: step "a" has both "http" and "exec": a step has exactly one`}},
		{"neither http nor exec", `
steps:
  a:
    needs: []
`, []string{`f.yaml:2:3: step "a" has neither "http" nor "exec": a step has exactly one`}},
		{"3-step cycle", `
steps:
  a:
    needs: [c]
    http: {url: x}
  b:
    needs: [a]
    http: {url: x}
  c:
    needs: [b]
    http: {url: x}
`, []string{`f.yaml:2:3: needs cycle: a -> c -> b -> a (each step needs the next)`}},
		{"3-step cycle through expressions", `
steps:
  a:
    http: {url: "https://x/${{ .steps.b.body.id }}"}
  b:
    http: {url: "https://x/${{ .steps.c.body.id }}"}
  c:
    exec: {command: [echo, "${{ .steps.a.body }}"]}
`, []string{`f.yaml:2:3: needs cycle: a -> b -> c -> a (each step needs the next)`}},
		{"self cycle", `
steps:
  a:
    needs: [a]
    http: {url: x}
`, []string{`f.yaml:2:3: needs cycle: a -> a (each step needs the next)`}},
		{"two cycles", `
steps:
  a:
    needs: [b]
    http: {url: x}
  b:
    needs: [a]
    http: {url: x}
  c:
    needs: [d, a]
    http: {url: x}
  d:
    needs: [c]
    http: {url: x}
`, []string{
			`f.yaml:2:3: needs cycle: a -> b -> a (each step needs the next)`,
			`f.yaml:8:3: needs cycle: c -> d -> c (each step needs the next)`,
		}},
		{"unknown need", `
steps:
  login:
    http: {url: x}
  b:
    needs: [logni]
    http: {url: x}
`, []string{`f.yaml:5:13: step "b" needs "logni", which does not exist (did you mean "login"?)`}},
		{"unknown .steps reference", `
steps:
  a:
    http:
      url: https://x/${{ .steps.nope.body.id }}
`, []string{`f.yaml:4:26: step "a" refers to .steps.nope, which does not exist`}},
		{"unknown .steps reference in output", `
steps:
  a:
    http: {url: x}
output:
  id: ${{ .steps.b.body.id }}
`, []string{`f.yaml:5:11: output refers to .steps.b, which does not exist`}},
		{"bad expression", `
steps:
  a:
    http:
      url: https://x/${{ .id | }}
`, []string{`f.yaml:4:32: bad expression ${{ .id | }}: jq: unexpected EOF`}},
		{"bad expression, quoted", `
steps:
  a:
    http:
      url: "https://x/${{ .id + }}"
`, []string{`f.yaml:4:33: bad expression ${{ .id + }}: jq: unexpected EOF`}},
		{"unclosed placeholder", `
steps:
  a:
    exec:
      command: [echo, "${{ .x"]
`, []string{`f.yaml:4:24: bad expression: unclosed placeholder: "${{" has no matching "}}"`}},
		{"undefined function", `
steps:
  a:
    if: ${{ nosuch(1) }}
    http: {url: x}
`, []string{`f.yaml:3:13: bad expression ${{ nosuch(1) }}: jq: function not defined: nosuch/1`}},
		{"bad expressions everywhere", `
steps:
  a:
    for_each: ${{ .[ }}
    assert: ["${{ ) }}"]
    http:
      url: x
      headers: {X: "${{ ( }}"}
      form: {f: "${{ ] }}"}
  b:
    exec:
      command: [x]
      stdin: ${{ , }}
      env: {A: "${{ | }}"}
      dir: ${{ ; }}
output: [{a: "${{ } }}"}]
`, []string{
			`f.yaml:3:22: bad expression ${{ .[ }}: jq: unexpected EOF`,
			`f.yaml:4:19: bad expression ${{ ) }}: jq: unexpected token ")"`,
			`f.yaml:7:27: bad expression ${{ ( }}: jq: unexpected EOF`,
			`f.yaml:8:22: bad expression ${{ ] }}: jq: unexpected token "]"`,
			`f.yaml:12:18: bad expression ${{ , }}: jq: unexpected token ","`,
			`f.yaml:13:21: bad expression ${{ | }}: jq: unexpected token "|"`,
			`f.yaml:14:16: bad expression ${{ ; }}: jq: unexpected token ";"`,
			`f.yaml:15:19: bad expression ${{ } }}: jq: unexpected token "}"`,
		}},
		{"bad durations", `
steps:
  a:
    timeout: 10
    exec: {command: [ls], timeout: 1x}
  b:
    timeout: -1s
    http: {url: x}
`, []string{
			`f.yaml:3:14: "timeout" of step "a": invalid duration "10" (write e.g. 10s, 1m30s, 500ms)`,
			`f.yaml:4:36: "timeout" of step "a": invalid duration "1x" (write e.g. 10s, 1m30s, 500ms)`,
			`f.yaml:6:14: "timeout" of step "b": duration "-1s" must be positive`,
		}},
		{"concurrency without for_each", `
steps:
  a:
    concurrency: 4
    http: {url: x}
`, []string{`f.yaml:3:5: "concurrency" of step "a" needs "for_each"`}},
		{"for_each not an expression", `
steps:
  a:
    for_each: items
    http: {url: x}
`, []string{`f.yaml:3:15: "for_each" of step "a" must be an expression ${{ ... }} giving a list`}},
		{"wrong types", `
steps:
  a:
    needs: {b: 1}
    http: [url, x]
  b:
    exec:
      command: ls
      env: [A]
    assert: .x
  c:
    http:
      url: [x]
      headers: x
    optional: yes please
    retries: -1
    concurrency: two
    for_each: ${{ .x }}
  d: 3
`, []string{
			`f.yaml:3:12: "needs" of step "a" must be a list of step names, not a mapping`,
			`f.yaml:4:11: "http" of step "a" must be a mapping, not a list`,
			`f.yaml:7:16: "command" of step "b" must be a list (program and arguments), not a scalar`,
			`f.yaml:8:12: "env" of step "b" must be a mapping, not a list`,
			`f.yaml:9:13: "assert" of step "b" must be a list of expressions, not a scalar`,
			`f.yaml:12:12: "url" of step "c" must be a string, not a list`,
			`f.yaml:13:16: "headers" of step "c" must be a mapping, not a scalar`,
			`f.yaml:14:15: "optional" of step "c" must be true or false`,
			`f.yaml:15:14: "retries" of step "c" must be a whole number >= 0, not "-1"`,
			`f.yaml:16:18: "concurrency" of step "c" must be a whole number >= 1, not "two"`,
			`f.yaml:18:6: step "d" must be a mapping, not a scalar`,
		}},
		{"missing url and command, empty command", `
steps:
  a:
    http: {method: POST}
  b:
    exec: {dir: /tmp}
  c:
    exec: {command: []}
`, []string{
			`f.yaml:3:11: "http" of step "a" has no "url"`,
			`f.yaml:5:11: "exec" of step "b" has no "command"`,
			`f.yaml:7:21: "command" of step "c" is empty: it needs at least a program`,
		}},
		{"two bodies", `
steps:
  a:
    http:
      url: x
      json: {a: 1}
      body: text
`, []string{`f.yaml:6:7: step "a" has more than one body: "json" and "body" (choose one of json, form, body)`}},
		{"duplicate key", `
steps:
  a:
    http: {url: x}
    http: {url: y}
`, []string{`f.yaml:4:5: duplicate key "http" in step "a" (first at line 3)`}},
		{"bad step name", `
steps:
  my-step:
    http: {url: x}
`, []string{`f.yaml:2:3: invalid step name "my-step": use letters, digits and _, not starting with a digit`}},
		{"dynamic steps without needs", `
steps:
  a: {exec: {command: ["true"]}}
  b: {exec: {command: [echo, '${{ .steps."a".stdout }}']}}
  c: {exec: {command: [echo, '${{ .steps | .a.stdout }}']}}
  d: {exec: {command: [echo, '${{ getpath(["steps", "a"]) }}']}}
  e: {needs: [a], exec: {command: [echo, '${{ .steps | .a.stdout }}']}}
output: '${{ .steps | keys }}'
`, []string{
			`f.yaml:3:35: step "b" reads .steps other than as .steps.NAME: which steps it needs cannot be told; write .steps.NAME, or list the steps it reads in "needs"`,
			`f.yaml:4:35: step "c" reads .steps other than as .steps.NAME: which steps it needs cannot be told; write .steps.NAME, or list the steps it reads in "needs"`,
			`f.yaml:5:44: step "d" reads "steps" other than as .steps.NAME: which steps it needs cannot be told; write .steps.NAME, or list the steps it reads in "needs"`}},
		{"item outside for_each", `
steps:
  a: {exec: {command: [echo, '${{ .item }}', '${{ .input.item }}']}}
  b: {for_each: '${{ [1] }}', exec: {command: [echo, '${{ .index }}']}}
output: '${{ .index }}'
`, []string{
			`f.yaml:2:35: step "a" reads .item, which only a step with "for_each" has`,
			`f.yaml:4:14: output reads .index, which only a step with "for_each" has`}},
		{"cache needs a GET", `
steps:
  a:
    cache: 1m
    http: {method: POST, url: x}
`, []string{`f.yaml:3:12: "cache" of step "a" needs an http step with method GET or HEAD`}},
		{"reserved step name", `
steps:
  input:
    http: {url: x}
  output:
    http: {url: x}
`, []string{`f.yaml:2:3: step name "input" is reserved: a record's error names "input" when it is not a step's; choose another name`,
			`f.yaml:4:3: step name "output" is reserved: a record's error names "output" when it is not a step's; choose another name`}},
		{"bad method", `
steps:
  a:
    http: {method: "G ET", url: x}
  b:
    http: {method: "${{ .m }}", url: x}
`, []string{`f.yaml:3:20: "method" of step "a": invalid HTTP method "G ET"`}},
		{"concurrency with a bad for_each", `
steps:
  a:
    for_each: ${{ .[ }}
    concurrency: 2
    http: {url: x}
`, []string{`f.yaml:3:22: bad expression ${{ .[ }}: jq: unexpected EOF`}},
		{"two documents", `
steps:
  a:
    http: {url: x}
---
steps: {}
`, []string{`f.yaml:5:1: a flow file holds one YAML document: this is a second one`}},
		{"bad second document", "steps:\n  a:\n    http: {url: x}\n---\n\ta: 1\n", []string{`f.yaml:5:1: invalid YAML: found character that cannot start any token`}},
		{"did you mean for_each", `
steps:
  a:
    for-each: ${{ .x }}
    http: {url: x}
`, []string{`f.yaml:3:5: unknown key "for-each" in step "a" (did you mean "for_each"?)`}},
		{"expression error in a multi-line plain scalar", `
steps:
  a:
    http:
      url: https://x/
        ${{ .id | }}
`, []string{`f.yaml:4:12: bad expression ${{ .id | }}: jq: unexpected EOF`}},
		{"expression error after non-ASCII text", `
steps:
  a:
    http:
      url: "https://x/é/${{ .id | }}"
`, []string{`f.yaml:4:35: bad expression ${{ .id | }}: jq: unexpected EOF`}},
		{"error in an aliased value, once", `
steps:
  a:
    http: &h {url: "${{ .id | }}"}
  b:
    http: *h
`, []string{`f.yaml:3:31: bad expression ${{ .id | }}: jq: unexpected EOF`}},
		{"all errors, sorted", `
steps:
  b:
    needs: [nope]
    http: {url: "${{ .x | }}"}
  a:
    neeeds: []
`, []string{
			`f.yaml:3:13: step "b" needs "nope", which does not exist`,
			`f.yaml:4:27: bad expression ${{ .x | }}: jq: unexpected EOF`,
			`f.yaml:5:3: step "a" has neither "http" nor "exec": a step has exactly one`,
			`f.yaml:6:5: unknown key "neeeds" in step "a" (did you mean "needs"?)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := flow.Parse("f.yaml", src(tt.in))
			if f != nil {
				t.Errorf("Parse returned a flow with errors")
			}
			var es flow.Errors
			if !errors.As(err, &es) {
				t.Fatalf("err = %v (%T), want flow.Errors", err, err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Error())
				if e.File != "f.yaml" || e.Line < 1 || e.Col < 1 {
					t.Errorf("bad position in %+v", e)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if err.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

// The asyncio classic: an unrelated GET runs beside a GET whose JSON is
// POSTed on.
const classic = `
steps:
  weather:
    http:
      url: https://api.example.com/weather
  user:
    http:
      url: https://api.example.com/users/${{ .input.id }}
      headers:
        Accept: application/json
    retries: 2
    timeout: 10s
  save:
    http:
      method: POST
      url: https://api.example.com/saved
      json:
        id: ${{ .steps.user.body.id }}
        name: "user ${{ .steps.user.body.name }}"
        tags: [a, 1, true]
    assert:
      - ${{ .status == 201 }}
output:
  weather: ${{ .steps.weather.body }}
  saved: ${{ .steps.save.body }}
`

func TestParseClassic(t *testing.T) {
	f, err := flow.Parse("classic.yaml", src(classic))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Order, []string{"user", "save", "weather"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	if f.File != "classic.yaml" {
		t.Errorf("File = %q", f.File)
	}
	w := f.Steps["weather"]
	if w.HTTP == nil || w.HTTP.Method != "GET" || w.HTTP.URL != "https://api.example.com/weather" || len(w.Needs) != 0 || w.Exec != nil {
		t.Errorf("weather = %+v, %+v", w, w.HTTP)
	}
	if w.Line != 2 || w.Col != 3 || w.Name != "weather" {
		t.Errorf("weather at %d:%d", w.Line, w.Col)
	}
	u := f.Steps["user"]
	if u.Retries != 2 || u.Timeout != 10*time.Second || u.HTTP.Headers["Accept"] != "application/json" {
		t.Errorf("user = %+v, %+v", u, u.HTTP)
	}
	s := f.Steps["save"]
	if !reflect.DeepEqual(s.Needs, []string{"user"}) {
		t.Errorf("save.Needs = %v, want [user] (implied by .steps.user)", s.Needs)
	}
	if s.HTTP.Method != "POST" || s.HTTP.BodyKind != flow.BodyJSON {
		t.Errorf("save = %+v", s.HTTP)
	}
	wantJSON := map[string]any{
		"id":   "${{ .steps.user.body.id }}",
		"name": "user ${{ .steps.user.body.name }}",
		"tags": []any{"a", 1, true},
	}
	if !reflect.DeepEqual(s.HTTP.JSON, wantJSON) {
		t.Errorf("save JSON = %#v", s.HTTP.JSON)
	}
	if !reflect.DeepEqual(s.Assert, []string{"${{ .status == 201 }}"}) {
		t.Errorf("save Assert = %q", s.Assert)
	}
	wantOut := map[string]any{"weather": "${{ .steps.weather.body }}", "saved": "${{ .steps.save.body }}"}
	if !reflect.DeepEqual(f.Output, wantOut) {
		t.Errorf("Output = %#v", f.Output)
	}
}

func TestParseForEachAndExec(t *testing.T) {
	f, err := flow.Parse("f.yaml", src(`
steps:
  list:
    http: {url: "https://x/items"}
  each:
    needs: [list, list]
    for_each: ${{ .steps.list.body.items }}
    concurrency: 8
    optional: true
    if: ${{ .item.enabled }}
    http:
      method: PUT
      url: https://x/items/${{ .item.id }}
      form: {a: "${{ .item.a }}", b: 2}
  report:
    needs: [each]
    exec:
      command: [sh, -c, 'wc -l']
      stdin: ${{ .steps.each | tojson }}
      env: {LANG: C}
      dir: /tmp
      timeout: 1m30s
  raw:
    http:
      url: https://x
      body: |
        plain text
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Order, []string{"list", "each", "raw", "report"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	e := f.Steps["each"]
	if !reflect.DeepEqual(e.Needs, []string{"list"}) || e.ForEach != "${{ .steps.list.body.items }}" || e.Concurrency != 8 || !e.Optional || e.If != "${{ .item.enabled }}" {
		t.Errorf("each = %+v", e)
	}
	if e.HTTP.BodyKind != flow.BodyForm || !reflect.DeepEqual(e.HTTP.Form, map[string]string{"a": "${{ .item.a }}", "b": "2"}) {
		t.Errorf("each form = %+v", e.HTTP)
	}
	r := f.Steps["report"]
	want := &flow.Exec{
		Command: []string{"sh", "-c", "wc -l"},
		Stdin:   "${{ .steps.each | tojson }}",
		Env:     map[string]string{"LANG": "C"},
		Dir:     "/tmp",
		Timeout: 90 * time.Second,
	}
	if !reflect.DeepEqual(r.Exec, want) || r.HTTP != nil || !reflect.DeepEqual(r.Needs, []string{"each"}) {
		t.Errorf("report = %+v, exec %+v", r, r.Exec)
	}
	if raw := f.Steps["raw"].HTTP; raw.BodyKind != flow.BodyText || raw.Body != "plain text\n" {
		t.Errorf("raw = %+v", raw)
	}
	if f.Output != nil {
		t.Errorf("Output = %v, want nil", f.Output)
	}
}

func TestParseAliases(t *testing.T) {
	f, err := flow.Parse("f.yaml", src(`
common: &get
  url: https://x
steps:
  a:
    http: *get
  b:
    http: *get
    needs: [a]
`))
	if err == nil || !strings.Contains(err.Error(), `f.yaml:1:1: unknown key "common" in the flow`) {
		t.Fatalf("err = %v", err)
	}
	f, err = flow.Parse("f.yaml", src(`
steps:
  a:
    http: &get {url: https://x}
  b:
    http: *get
    needs: [a]
output: &o [1, *o]
`))
	if err == nil || f != nil {
		t.Fatalf("recursive alias: err = %v", err)
	}
	f, err = flow.Parse("f.yaml", src(`
steps:
  a:
    http: &get {url: https://x}
  b:
    http: *get
    needs: [a]
`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Steps["b"].HTTP.URL != "https://x" {
		t.Errorf("b = %+v", f.Steps["b"].HTTP)
	}
}

func TestMermaidDot(t *testing.T) {
	f, err := flow.Parse("classic.yaml", src(classic))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := f.Mermaid(&b); err != nil {
		t.Fatal(err)
	}
	const mermaid = `flowchart TD
    s_save["save<br/>http POST"]
    s_user["user<br/>http GET"]
    s_weather["weather<br/>http GET"]
    s_user --> s_save
`
	if b.String() != mermaid {
		t.Errorf("Mermaid:\n%s\nwant:\n%s", b.String(), mermaid)
	}
	b.Reset()
	if err := f.Dot(&b); err != nil {
		t.Fatal(err)
	}
	const dot = `digraph flow {
    rankdir=TB;
    node [shape=box];
    "save" [label="save\nhttp POST"];
    "user" [label="user\nhttp GET"];
    "weather" [label="weather\nhttp GET"];
    "user" -> "save";
}
`
	if b.String() != dot {
		t.Errorf("Dot:\n%s\nwant:\n%s", b.String(), dot)
	}
}

func TestImpliedNeedsFromEveryField(t *testing.T) {
	f, err := flow.Parse("f.yaml", src(`
steps:
  a: {http: {url: x}}
  b: {http: {url: x}}
  c: {http: {url: x}}
  d: {http: {url: x}}
  e: {exec: {command: [x]}}
  z:
    if: ${{ .steps.a.ok }}
    for_each: ${{ .steps.b.body }}
    assert: ["${{ .steps.c.status == 200 }}"]
    http:
      url: x
      headers: {X: "${{ .steps.d.body }}"}
  y:
    exec:
      command: [x]
      env: {E: "${{ .steps.e.stdout }}"}
      stdin: "literal .steps.z, no expression"
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Steps["z"].Needs, []string{"a", "b", "c", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("z.Needs = %v, want %v", got, want)
	}
	if got, want := f.Steps["y"].Needs, []string{"e"}; !reflect.DeepEqual(got, want) {
		t.Errorf("y.Needs = %v, want %v", got, want)
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := flow.Parse("f.yaml", []byte("steps:\n  a: {}\n  b: {}\n"))
	var e *flow.Error
	if !errors.As(err, &e) || e.Line != 2 || e.Col != 3 || e.File != "f.yaml" {
		t.Fatalf("errors.As: %v, %+v", err, e)
	}
}

func TestGraphEscapes(t *testing.T) {
	f, err := flow.Parse("f.yaml", src(`
steps:
  end:
    http: {method: '${{ "P\\" + "ÜT" }}', url: x}
`))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	f.Mermaid(&b)
	f.Dot(&b)
	const want = `flowchart TD
    s_end["end<br/>http ${{ #quot;P\\#quot; + #quot;ÜT#quot; }}"]
digraph flow {
    rankdir=TB;
    node [shape=box];
    "end" [label="end\nhttp ${{ \"P\\\\\" + \"ÜT\" }}"];
}
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(classic))
	f.Add(src(`
steps:
  a: {needs: [c], http: {url: x}}
  b: {needs: [a], exec: {command: [ls]}}
  c: {needs: [b], http: {url: "${{ .steps.b | }}"}}
output: &o [*o]
`))
	f.Add([]byte("steps: {a: {for_each: ${{ .x }}, concurrency: 2, http: {url: x, json: [1]}}}"))
	f.Add([]byte("a: &a [*a, *a]\nsteps: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := flow.Parse("fuzz.yaml", data)
		if (fl == nil) == (err == nil) {
			t.Fatalf("Parse returned flow %v and error %v", fl, err)
		}
		if err != nil {
			for _, e := range err.(flow.Errors) {
				if e.Line < 1 || e.Col < 1 || e.Msg == "" {
					t.Fatalf("bad error %+v", e)
				}
			}
			return
		}
		if len(fl.Order) != len(fl.Steps) {
			t.Fatalf("Order %v for %d steps", fl.Order, len(fl.Steps))
		}
		pos := map[string]int{}
		for i, name := range fl.Order {
			pos[name] = i
		}
		for name, s := range fl.Steps {
			for _, need := range s.Needs {
				if pos[need] >= pos[name] {
					t.Fatalf("%s needs %s but comes first in %v", name, need, fl.Order)
				}
			}
		}
		var b strings.Builder
		_ = fl.Mermaid(&b)
		_ = fl.Dot(&b)
	})
}
