package template_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gogather/gather/template"
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
