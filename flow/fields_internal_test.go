package flow

import (
	"slices"
	"testing"
)

// readFields builds a field only when no expression can read it: every
// form below that reads a field must be seen.
func TestReadFieldsSeesEveryWayToReadAField(t *testing.T) {
	all := allFields
	for _, c := range []struct {
		expr string
		want fields // of step a
	}{
		{".steps.a.status", fields{}},
		{".steps.a.body.x", fields{body: true, keys: []string{"x"}}},
		{".steps.a.body .x", fields{body: true, keys: []string{"x"}}},
		{".steps.a.body.y.z + .steps.a.body.x", fields{body: true, keys: []string{"x", "y"}}},
		{".steps.a.body.x, .steps.a.body", fields{body: true}},
		{".steps.a.body.x, .steps.a.body[]", fields{body: true}},
		{`.steps.a.body["x"]`, fields{body: true}},
		{`.steps.a.body."x"`, all}, // a key by a string: dynamic
		{".steps.a.body | .x", fields{body: true}},
		{".steps.a.body?.x", fields{body: true}},
		{"[.steps.a.body.x, .steps.a.text]", fields{body: true, text: true, keys: []string{"x"}}},
		{".steps.a.body.x | tojson", fields{body: true, keys: []string{"x"}}},
		{".steps.a.body.x, (.steps.a | .body)", all},
		{".steps.a.body.x, tojson", all},
		{".steps.a.body.x = 1", all},
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
		if got := readFields(f)["a"]; !sameFields(got, c.want) {
			t.Errorf("%s: reads %+v, want %+v", c.expr, got, c.want)
		}
	}
}

func sameFields(a, b fields) bool {
	return a.body == b.body && a.text == b.text && a.headers == b.headers && slices.Equal(a.keys, b.keys)
}

// A step's asserts see its own result at the top level: one that
// mentions body reads it whole, whatever the other expressions read.
func TestReadFieldsAssertReadsTheWholeBody(t *testing.T) {
	f, err := Parse("f.yaml", []byte("steps:\n  a: {http: {url: \"http://x/\"}, assert: ['${{ .body.ok }}']}\noutput: '${{ .steps.a.body.x }}'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := readFields(f)["a"]; !sameFields(got, fields{body: true}) {
		t.Errorf("reads %+v, want the whole body", got)
	}
	f, err = Parse("f.yaml", []byte("steps:\n  a: {http: {url: \"http://x/\"}, assert: ['${{ .status == 200 }}']}\noutput: '${{ .steps.a.body.x }}'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := readFields(f)["a"]; !sameFields(got, fields{body: true, keys: []string{"x"}}) {
		t.Errorf("reads %+v, want the body's key x", got)
	}
}
