package flow_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	_ "time"

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
    http: {url: "https://x/${{ .steps.b.json.id }}"}
  b:
    http: {url: "https://x/${{ .steps.c.json.id }}"}
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
      url: https://x/${{ .steps.nope.json.id }}
`, []string{`f.yaml:4:26: step "a" refers to .steps.nope, which does not exist`}},
		{"unknown .steps reference in output", `
steps:
  a:
    http: {url: x}
output:
  id: ${{ .steps.b.json.id }}
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
