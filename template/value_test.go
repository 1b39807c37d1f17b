package template_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/gogather/gather/template"
	"github.com/itchyny/gojq"
)

func TestValueKeepsTheJSONTypeOfAWholeExpression(t *testing.T) {
	fields := map[string]any{"n": json.Number("12345678901234567890"), "list": []any{1.0, "a"}, "obj": map[string]any{"k": true}}
	for _, c := range []struct {
		src  string
		want any
	}{
		{"${{ .n }}", json.Number("12345678901234567890")},
		{"${{ .list }}", []any{1.0, "a"}},
		{"${{ .obj }}", map[string]any{"k": true}},
		{"${{ .missing }}", nil},
		{"${{ 1 + 2 }}", 3},
		{" ${{ 1 + 2 }}", " 3"},                                  // text around: interpolated
		{"${{ .list }}${{ .n }}", `[1,"a"]12345678901234567890`}, // two expressions
		{"plain", "plain"},
	} {
		tm, err := template.Parse(c.src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tm.Value(context.Background(), fields, template.Limits{})
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %#v, want %#v", c.src, got, c.want)
		}
	}
}

func TestValueErrorsAsExecute(t *testing.T) {
	tm, _ := template.Parse("${{ .[] }}")
	_, err := tm.Value(context.Background(), map[string]any{"a": 1, "b": 2}, template.Limits{})
	if err == nil || err.Error() != "column 1: ${{ .[] }}: more than one value" {
		t.Errorf("err %v", err)
	}
}

func TestQuickTemplatesHaveNothingToStop(t *testing.T) {
	for src, want := range map[string]bool{
		"plain":                                 true,
		"${{ .a.b[0] }} and ${{ .x | tojson }}": true,
		`${{ if .a then "x" else .b end }}`:     true,
		"${{ [.items[] | .id] | join(\",\") }}": true,
		"${{ .a | length > 0 }}":                true,
		"${{ [range(10)] }}":                    false,
		"${{ [repeat(1)] }}":                    false,
		"${{ def f: f; f }}":                    false,
		"${{ reduce .[] as $x (0; . + $x) }}":   false,
		"${{ .. }}":                             false,
		`${{ .t | xpath("//a") }}`:              false,
	} {
		tm, err := template.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if got := tm.Quick(); got != want {
			t.Errorf("%s: Quick() = %v, want %v", src, got, want)
		}
	}
}

// A plain path (.a.b) is looked up without running jq: the same values,
// and jq's own error where a step is not an object.
func TestPlainPathsGiveJqValues(t *testing.T) {
	tm, err := template.Parse(`${{ .a."b".c }}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   map[string]any
		want any
		err  string
	}{
		{map[string]any{"a": map[string]any{"b": map[string]any{"c": []any{1.0}}}}, []any{1.0}, ""},
		{map[string]any{"a": map[string]any{"b": nil}}, nil, ""},
		{map[string]any{}, nil, ""},
		{map[string]any{"a": map[string]any{"b": json.Number("12345678901234567890")}}, nil, `column 1: ${{ .a."b".c }}: expected an object but got: number (12345678901234567890)`},
		{map[string]any{"a": "text"}, nil, `column 1: ${{ .a."b".c }}: expected an object but got: string ("text")`},
	} {
		got, err := tm.Value(context.Background(), c.in, template.Limits{})
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%v: err %v, want %s", c.in, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: %#v %v, want %#v", c.in, got, err, c.want)
		}
	}
}

// A choice between two strings by a path compared with a string (if .a
// == "x" then "y" else "z" end) is made without running jq: the value jq
// gives, whatever the path holds, and jq's own error where a step is not
// an object.
func TestChoicesGiveJqValues(t *testing.T) {
	inputs := []map[string]any{
		{}, {"a": nil}, {"a": map[string]any{}}, {"a": map[string]any{"b": "1"}}, {"a": map[string]any{"b": "10"}},
		{"a": map[string]any{"b": ""}}, {"a": map[string]any{"b": json.Number("1")}}, {"a": map[string]any{"b": 1.0}},
		{"a": map[string]any{"b": true}}, {"a": map[string]any{"b": []any{"1"}}}, {"a": map[string]any{"b": map[string]any{}}},
		{"a": map[string]any{"b": "caf\u00e9"}}, {"a": map[string]any{"b": "a\nb"}}, {"a": "text"}, {"a": 2.0},
	}
	for _, expr := range []string{
		`if .a.b == "1" then "2s" else "10ms" end`,
		`if .a.b != "1" then "x" else "y" end`,
		`if .a."b" == "" then "empty" else "not" end`,
		`if .a.b == "café" then "\u00e9" else "a\nb" end`,
		`if .a.b == "a\nb" then "nl" else "" end`,
		`if .a.b == 1 then "number" else "other" end`, // not a choice: jq runs
		`if .a.b == "1" then .a else "x" end`,         // nor this
	} {
		tm, err := template.Parse("${{ " + expr + " }}")
		if err != nil {
			t.Fatal(err)
		}
		code, err := gojq.Compile(mustParse(t, expr))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range inputs {
			got, gerr := tm.Value(context.Background(), in, template.Limits{})
			want, _ := code.Run(in).Next()
			if werr, ok := want.(error); ok {
				if gerr == nil || !strings.Contains(gerr.Error(), werr.Error()) {
					t.Errorf("%s on %v: %#v %v, want jq's error %v", expr, in, got, gerr, werr)
				}
				continue
			}
			if gerr != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s on %v: %#v %v, want %#v", expr, in, got, gerr, want)
			}
		}
	}
}

func mustParse(t *testing.T, expr string) *gojq.Query {
	t.Helper()
	q, err := gojq.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
