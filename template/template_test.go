package template

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

var record = map[string]any{
	"id":    json.Number("12345678901234567890"),
	"n":     json.Number("1.50"),
	"f":     2.5,
	"i":     3,
	"big":   big.NewInt(7),
	"s":     "a b&c",
	"t":     true,
	"null":  nil,
	"arr":   []any{json.Number("1"), "two", nil},
	"obj":   map[string]any{"b": json.Number("2"), "a": "<x>"},
	"multi": "line1\nline2",
}

func TestValues(t *testing.T) {
	for _, c := range []struct{ tmpl, want string }{
		{"", ""},
		{"plain", "plain"},
		{"${{.s}}", "a b&c"},
		{"${{ .id }}", "12345678901234567890"},
		{"${{ .n }}", "1.50"},
		{"${{ .n + 1 }}", "2.5"},
		{"${{ .id | tostring }}", "12345678901234567890"},
		{"${{ .f }}|${{ .i }}|${{ .big }}", "2.5|3|7"},
		{"${{ 1e100 }} ${{ 0.1 + 0.2 }} ${{ 10 / 2 }}", "1e+100 0.30000000000000004 5"},
		{"${{ .t }} ${{ .t | not }}", "true false"},
		{"[${{ .null }}][${{ .missing }}][${{ .missing.deeper }}]", "[][][]"},
		{"${{ .arr }}", `[1,"two",null]`},
		{"${{ .obj }}", `{"a":"<x>","b":2}`},
		{"${{ .multi }}", "line1\nline2"},
		{"${{ .s | @uri }}", "a%20b%26c"},
		{"${{ .s | tojson }}", `"a b&c"`},
		{"${{ .missing // \"default\" }}", "default"},
		{"a${{.i}}b${{.i}}c", "a3b3c"},
		{"${{ $ENV | length }}${{ env | length }}", "00"},
	} {
		tm, err := Parse(c.tmpl)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.tmpl, err)
			continue
		}
		got, err := tm.Execute(record)
		if err != nil || got != c.want {
			t.Errorf("%q = %q, %v; want %q", c.tmpl, got, err, c.want)
		}
		if tm.String() != c.tmpl {
			t.Errorf("String() = %q", tm.String())
		}
	}
}

func TestSyntax(t *testing.T) {
	for _, c := range []struct {
		tmpl, want string
		constant   bool
	}{
		{"$${{ .s }}", "${{ .s }}", true},
		{"$$${{ .i }}", "$3", false},
		{"$$$${{ .i }}", "$${{ .i }}", true},
		{"$$$$${{ .i }}", "$$3", false},
		{"$HOME $$ {{ .i }} }} $", "$HOME $$ {{ .i }} }} $", true},
		{"{{${{.i}}}}", "{{3}}", false},
		{"${{{{", "", false}, // an error, see below
		{`${{ "}}" }}`, "}}", false},
		{`${{ "\"}}" }}`, `"}}`, false},
		{`${{ "a\("}}" + .s)b" }}`, "a}}a b&cb", false},
		{`${{ "\("\(")")")" }}`, ")", false},
		{"${{ {a: {b: .i}} }}", `{"a":{"b":3}}`, false},
		{"${{{a:.i}}}", `{"a":3}`, false},
		{"${{ ({a:1} | .a) }}}", "1}", false},
		{"${{ (.i) }} ${{ [.i, (.i)] }}", "3 [3,3]", false},
		{"${{\n\t.i\n}}", "3", false},
		{"é${{ .s }}é", "éa b&cé", false},
		{"${{ .i # a comment }}", "3", false},
	} {
		tm, err := Parse(c.tmpl)
		if c.tmpl == "${{{{" {
			if err == nil {
				t.Errorf("%q parsed", c.tmpl)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.tmpl, err)
			continue
		}
		got, err := tm.Execute(record)
		if err != nil || got != c.want {
			t.Errorf("%q = %q, %v; want %q", c.tmpl, got, err, c.want)
		}
		if tm.IsConstant() != c.constant {
			t.Errorf("%q: IsConstant() = %v", c.tmpl, tm.IsConstant())
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		tmpl string
		col  int
		msg  string
	}{
		{"abc ${{ .a", 5, `unclosed placeholder: "${{" has no matching "}}"`},
		{"abc ${{ .a }", 5, `unclosed placeholder`},
		{`${{ "}} }}`, 1, `(a string literal in it is not closed)`},
		{`${{ {a: 1 }}`, 1, `unclosed placeholder`},
		{"x ${{ }} ${{ .a }}", 3, `empty placeholder: no expression between "${{" and "}}"`},
		{"x ${{}}", 3, "empty placeholder"},
		{"x${{ .a ) }}", 9, `${{ .a ) }}: jq: unexpected token ")"`},
		{"x${{ .a | }}", 11, `jq: unexpected EOF`},
		{`${{ "\x" }}`, 6, `jq: invalid escape sequence "\x" in string literal`},
		{"ok ${{ .a }} ${{ foo(1) }}", 18, "${{ foo(1) }}: jq: function not defined: foo/1"},
		{"${{  $x }}", 6, "jq: variable not defined: $x"},
		{"${{ input }}", 5, "jq: input(s)/0 is not allowed"},
		{"${{ " + strings.Repeat(".a|", 30) + ") }}", 95, "|.a…}}: jq: unexpected token \")\""},
	} {
		_, err := Parse(c.tmpl)
		var te *Error
		if !errors.As(err, &te) {
			t.Errorf("Parse(%q) = %v, want an *Error", c.tmpl, err)
			continue
		}
		if te.Column != c.col || !strings.Contains(err.Error(), c.msg) ||
			!strings.HasPrefix(err.Error(), fmt.Sprintf("column %d: ", c.col)) {
			t.Errorf("Parse(%q) = %v (column %d), want column %d, %q", c.tmpl, err, te.Column, c.col, c.msg)
		}
	}
}

func TestExecuteErrors(t *testing.T) {
	for _, c := range []struct {
		tmpl   string
		fields map[string]any
		msg    string
	}{
		{"a ${{ .arr[] }}", record, "column 3: ${{ .arr[] }}: more than one value"},
		{"a ${{ empty }}", record, "column 3: ${{ empty }}: no value"},
		{"${{ .i }}${{ .s + 1 }}", record, `column 10: ${{ .s + 1 }}: cannot add: string ("a b&c") and number (1)`},
		{`${{ error("boom") }}`, record, `${{ error("boom") }}: boom`},
		{`${{ halt }}`, record, `${{ halt }}: halt`},
		{`${{ "x" | halt_error }}`, record, `${{ "x" | halt_error }}: halt: x`},
		{`${{ {a: 1} | error }}`, record, `${{ {a: 1} | error }}: error: {"a":1}`},
		{"${{ .a }}", map[string]any{"a": int64(5)}, "column 1: ${{ .a }}: cannot evaluate"},
		{"${{ .a + 1 }}", map[string]any{"a": int64(5)}, "cannot evaluate"},
		{"${{ [.a] }}", map[string]any{"a": []string{"x"}}, "cannot evaluate"},
	} {
		tm, err := Parse(c.tmpl)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.tmpl, err)
		}
		got, err := tm.Execute(c.fields)
		var te *Error
		if !errors.As(err, &te) || !strings.Contains(err.Error(), c.msg) || got != "" {
			t.Errorf("%q = %q, %v; want %q", c.tmpl, got, err, c.msg)
		}
	}
	// A nil record is an empty object.
	tm, _ := Parse("[${{ .a }}]")
	if got, err := tm.Execute(nil); got != "[]" || err != nil {
		t.Fatalf("nil fields: %q, %v", got, err)
	}
}

func TestExecuteContext(t *testing.T) {
	for _, tmpl := range []string{"${{ def f: f; f }}", "${{ 1, (def f: f; f) }}", "${{ [repeat(1)] }}"} {
		tm, err := Parse(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		_, err = tm.ExecuteContext(ctx, record)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("%q: %v after %v", tmpl, err, time.Since(start))
		}
	}
	tm, _ := Parse("${{ .i }}")
	if got, err := tm.ExecuteContext(context.Background(), record); got != "3" || err != nil {
		t.Fatal(got, err)
	}
}

func TestConcurrent(t *testing.T) {
	tm, err := Parse(`/users/${{ .id }}?q=${{ .q | @uri }}&n=${{ [.tags[] | ascii_upcase] | join(",") }}`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				rec := map[string]any{
					"id":   json.Number(fmt.Sprint(g*1000 + i)),
					"q":    fmt.Sprintf("a b %d", i),
					"tags": []any{"x", fmt.Sprint("y", g)},
				}
				got, err := tm.Execute(rec)
				want := fmt.Sprintf("/users/%d?q=a%%20b%%20%d&n=X,Y%d", g*1000+i, i, g)
				if err != nil || got != want {
					t.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkExecute(b *testing.B) {
	tm, _ := Parse("https://api.example.com/users/${{ .id }}/posts?since=${{ .since }}")
	rec := map[string]any{"id": "42", "since": json.Number("1700000000")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tm.Execute(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// risky holds what lets a jq expression allocate without bound in a few
// steps; the fuzz test does not execute such expressions.
var risky = []string{"*", "def", "recurse", "repeat", "until", "while", "limit", "range", "reduce",
	"foreach", "exp", "pow", "ldexp", "scalb", "@base", "tonumber", "setpath", "implode", "getpath", "splits", "gsub", "sub("}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "plain", "${{ .s }}", "$${{ .s }}", "$$${{ .i }}", `${{ "}}" }}`, `${{ "a\("}}")b" }}`,
		"${{ {a: {b: .i}} }}", "x${{ .a ) }}", "${{ }}", "${{ .arr[] }}", "${{ .obj | tojson }}",
		"${{ .missing // \"d\" }}", "${{ .n + 1 }}", "${{ .s | @uri }}", "${{", "}}", "${{ \"\\(\" }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := Parse(s)
		if err != nil {
			var te *Error
			if !errors.As(err, &te) || te.Column < 1 || te.Column > len(s)+1 {
				t.Fatalf("Parse(%q) = %v", s, err)
			}
			return
		}
		if tm.String() != s {
			t.Fatalf("String() = %q, want %q", tm.String(), s)
		}
		if tm.IsConstant() {
			got, err := tm.Execute(record)
			if err != nil || strings.Count(got, "$") > strings.Count(s, "$") {
				t.Fatalf("constant %q = %q, %v", s, got, err)
			}
			return
		}
		if len(s) > 100 {
			return
		}
		for _, r := range risky {
			if strings.Contains(s, r) {
				return
			}
		}
		for i := 0; i+1 < len(s); i++ {
			if '0' <= s[i] && s[i] <= '9' && (s[i+1] == 'e' || s[i+1] == 'E' || '0' <= s[i+1] && s[i+1] <= '9' && i+3 < len(s) && strings.Trim(s[i:i+4], "0123456789") == "") {
				return // 1e9, 9999: numbers that could size an allocation
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := tm.ExecuteContext(ctx, record); err != nil {
			var te *Error
			if !errors.As(err, &te) || te.Column < 1 || te.Column > len(s) {
				t.Fatalf("Execute(%q) = %v", s, err)
			}
		}
	})
}
