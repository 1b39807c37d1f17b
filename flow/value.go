package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/gogather/gather/template"
	"github.com/itchyny/gojq"
)

// A value is a compiled YAML value whose strings may hold expressions: a
// template, a list, a mapping, or a constant (a number, a boolean, null).
type value struct {
	tmpl  *template.Template
	list  []value
	keys  []string // a mapping's keys, sorted
	vals  []value  // a mapping's values, by keys
	isMap bool
	lit   any // a constant that is not a string
}

// compileValue compiles a value decoded from YAML. Parse has checked
// every template in it, so an error here is a flow built by hand.
func compileValue(v any) (value, error) {
	switch v := v.(type) {
	case string:
		t, err := template.Parse(v)
		if err != nil {
			return value{}, err
		}
		return value{tmpl: t}, nil
	case []any:
		out := value{list: make([]value, len(v))}
		for i, x := range v {
			var err error
			if out.list[i], err = compileValue(x); err != nil {
				return value{}, err
			}
		}
		if out.list == nil {
			out.list = []value{}
		}
		return out, nil
	case map[string]any:
		out := value{isMap: true}
		for k := range v {
			out.keys = append(out.keys, k)
		}
		sort.Strings(out.keys)
		for _, k := range out.keys {
			c, err := compileValue(v[k])
			if err != nil {
				return value{}, err
			}
			out.vals = append(out.vals, c)
		}
		return out, nil
	case map[any]any: // YAML keys that are not strings
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = x
		}
		return compileValue(m)
	case nil, bool, float64, int, json.Number:
		return value{lit: v}, nil
	case int64:
		return value{lit: int(v)}, nil
	case uint64:
		return value{lit: new(big.Int).SetUint64(v)}, nil
	default:
		return value{lit: fmt.Sprint(v)}, nil
	}
}

// quick reports whether every expression of the value is quick
// (template.Quick).
func (v *value) quick() bool {
	if v.tmpl != nil {
		return v.tmpl.Quick()
	}
	for i := range v.list {
		if !v.list[i].quick() {
			return false
		}
	}
	for i := range v.vals {
		if !v.vals[i].quick() {
			return false
		}
	}
	return true
}

// eval builds the value from data: a string that is exactly one
// expression takes the expression's value with its JSON type; other
// strings are interpolated.
func (v *value) eval(ctx context.Context, data map[string]any, lim template.Limits) (any, error) {
	switch {
	case v.tmpl != nil:
		return v.tmpl.Value(ctx, data, lim)
	case v.list != nil:
		out := make([]any, len(v.list))
		for i := range v.list {
			x, err := v.list[i].eval(ctx, data, lim)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = x
		}
		return out, nil
	case v.isMap:
		out := make(map[string]any, len(v.keys))
		for i, k := range v.keys {
			x, err := v.vals[i].eval(ctx, data, lim)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = x
		}
		return out, nil
	}
	return v.lit, nil
}

// condition evaluates an if or an assert. It must give a boolean: true or
// false, null (false), or the text true or false in any case (a CSV
// field, "${{ .input.enabled }}"). Anything else is an error rather than
// jq's truth, in which the text "false", "" and 0 are true: a step that
// deletes must not run because a CSV cell said "false".
func condition(ctx context.Context, t *template.Template, data map[string]any, lim template.Limits) (bool, error) {
	v, err := t.Value(ctx, data, lim)
	if err != nil {
		return false, err
	}
	switch v := v.(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	case string:
		switch {
		case strings.EqualFold(strings.TrimSpace(v), "true"):
			return true, nil
		case strings.EqualFold(strings.TrimSpace(v), "false"):
			return false, nil
		}
		if !t.IsValue() {
			return false, fmt.Errorf("gave the text %q, not true or false: write the whole condition inside one ${{ }}", shortText(v))
		}
		return false, fmt.Errorf("gave the string %q, not true or false (compare it: ${{ .x == \"yes\" }})", shortText(v))
	}
	b, _ := gojq.Marshal(v)
	return false, fmt.Errorf("gave %s %s, not true or false (compare it: ${{ .n > 0 }}, ${{ .list | length > 0 }})", typeName(v), shortText(string(b)))
}

// shortText cuts a long text for a message.
func shortText(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "…"
}

// typeName names a JSON value's type as jq does.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "number"
}

// A Value is a YAML value whose strings may be expressions, compiled
// once (as a flow's output is): a gateway's response body is one.
type Value struct{ v value }

// CompileValue compiles a value decoded from YAML (strings, numbers,
// booleans, null, lists and string-keyed mappings).
func CompileValue(v any) (*Value, error) {
	c, err := compileValue(v)
	if err != nil {
		return nil, err
	}
	return &Value{c}, nil
}

// Eval builds the value from data, each expression within lim: a string
// that is exactly one expression takes the expression's value with its
// JSON type, other strings are interpolated (template.Value).
func (v *Value) Eval(ctx context.Context, data map[string]any, lim template.Limits) (any, error) {
	return v.v.eval(ctx, data, lim)
}
