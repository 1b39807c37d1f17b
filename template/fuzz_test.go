package template_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/template"
	"github.com/itchyny/gojq"
)

// FuzzTemplate parses any text as a template and fills it from any JSON
// object: nothing panics, every error is an *Error, and a value is one
// jq can encode.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"${{ .a }}", "x ${{ .a | tojson }} y", "$${{ .a }}", "${{ \"}}\" }}", "${{ [.[]] }}",
		"${{ .a | xpath(\"//b\") }}", "${{ .h | css(\"p\") }}", "${{", "${{ }}", "${{ error(.a) }}",
		"${{ limit(3; repeat(1)) }}", "${{ {a: {b: .x}} }}",
	} {
		f.Add(s, `{"a": 1, "h": "<p>x</p>", "x": [1, "b", null]}`)
	}
	f.Fuzz(func(t *testing.T, src, input string) {
		tm, err := template.Parse(src)
		if err != nil {
			var te *template.Error
			if !errors.As(err, &te) {
				t.Fatalf("Parse(%q): error %T %v is not an *Error", src, err, err)
			}
			return
		}
		var fields map[string]any
		d := json.NewDecoder(strings.NewReader(input))
		d.UseNumber()
		if d.Decode(&fields) != nil {
			fields = map[string]any{"input": input}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		lim := template.Limits{Time: 100 * time.Millisecond, Bytes: 1 << 16}
		v, err := tm.Value(ctx, fields, lim)
		if err != nil {
			var te *template.Error
			if !errors.As(err, &te) {
				t.Fatalf("Value(%q): error %T %v is not an *Error", src, err, err)
			}
			return
		}
		if _, err := gojq.Marshal(v); err != nil && !isNaN(v) {
			t.Fatalf("Value(%q) = %#v: jq cannot encode it: %v", src, v, err)
		}
		if _, err := tm.ExecuteLimits(ctx, fields, lim); err != nil {
			var te *template.Error
			if !errors.As(err, &te) {
				t.Fatalf("ExecuteLimits(%q): error %T %v is not an *Error", src, err, err)
			}
		}
	})
}

func isNaN(v any) bool { f, ok := v.(float64); return ok && f != f }
