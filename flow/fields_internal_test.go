package flow

import (
	"testing"
)

// readFields builds a field only when no expression can read it: every
// form below that reads a field must be seen.
func TestReadFieldsSeesEveryWayToReadAField(t *testing.T) {
	all := fields{true, true, true}
	for _, c := range []struct {
		expr string
		want fields // of step a
	}{
		{".steps.a.status", fields{}},
		{".steps.a.body.x", fields{body: true}},
		{".steps.a .text", fields{text: true}},
		{`.steps.a.headers["x"]`, fields{headers: true}},
		{".steps.a.body?", fields{body: true}},
		{`"\(.steps.a.text)"`, fields{text: true}},
		{".steps.a | .body", all},
		{".steps.a?.body", all},
		{"(.steps.a).body", all},
		{"[.steps.a][0].body", all},
		{".steps.a as $x | $x.body", all},
		{".steps | .a.body", all},
		{`.steps["a"].body`, all},
		{`.["steps"].a.body`, all},
		{`getpath(["steps","a","body"])`, all},
		{".", all},
		{"tojson", all},
		{"..", all},
		{"[.[]]", all},
		{"to_entries", all},
		{"{steps}", all},
		{"keys", all},
		{".steps[]", all},
		{"def f: .steps; f.a.body", all},
		{"reduce .input[] as $i (.; .steps)", all},
		{"reduce .input[] as $i (0; . + $i)", fields{}},
		{".input.x | tojson", fields{}},
		{"{input, n: .steps.a.status}", fields{}},
		{"if .input.x then .steps.a.body else 1 end", fields{body: true}},
		{".input.x | length", fields{}},
		{"length", fields{}},
		{`{"x": 5} as {(getpath(["steps","a","text"])): $v} | $v`, all},
		{`.input as {x: $v} | $v`, fields{}},
	} {
		f, err := Parse("f.yaml", []byte("steps:\n  a: {exec: {command: [\"true\"]}}\n  b: {needs: [a], exec: {command: [echo, '${{ "+c.expr+" }}']}}\n"))
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := readFields(f)["a"]; got != c.want {
			t.Errorf("%s: reads %+v, want %+v", c.expr, got, c.want)
		}
	}
}
