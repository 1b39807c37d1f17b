package template_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gogather/gather/input"
	"github.com/gogather/gather/template"
)

func Example() {
	t, err := template.Parse("https://api.example.com/users/${{ .id }}/posts?tag=${{ .tag | @uri }}")
	if err != nil {
		panic(err)
	}
	out, err := t.Execute(map[string]any{"id": json.Number("42"), "tag": "go & jq"})
	fmt.Println(out, err)
	// Output: https://api.example.com/users/42/posts?tag=go%20%26%20jq <nil>
}

// Each record of a CSV or JSONL input fills the template.
func Example_records() {
	body, _ := template.Parse(`{"user": ${{ .id | tonumber }}, "name": ${{ .name | tojson }}}`)
	in := "id,name\n1,Ann\n2,\"Bob \"\"the\"\" Builder\"\n"
	for rec := range input.CSV(strings.NewReader(in)) {
		out, err := body.Execute(rec.Fields)
		fmt.Println(rec.Num, out, err)
	}
	// Output:
	// 2 {"user": 1, "name": "Ann"} <nil>
	// 3 {"user": 2, "name": "Bob \"the\" Builder"} <nil>
}

// How each kind of value is inserted.
func ExampleTemplate_Execute() {
	var rec map[string]any
	json.Unmarshal([]byte(`{"s": "text", "n": 1.50, "b": true, "z": null, "a": [1, "x"], "o": {"k": "v"}}`), &rec)
	for _, src := range []string{
		"string: ${{ .s }}",
		"number: ${{ .n }}, ${{ .n * 2 }}",
		"boolean: ${{ .b }}",
		"null: [${{ .z }}], missing: [${{ .nope }}]",
		"array: ${{ .a }}",
		"object: ${{ .o }}",
		"default: ${{ .nope // \"none\" }}",
	} {
		t, _ := template.Parse(src)
		out, _ := t.Execute(rec)
		fmt.Println(out)
	}
	// Output:
	// string: text
	// number: 1.5, 3
	// boolean: true
	// null: [], missing: []
	// array: [1,"x"]
	// object: {"k":"v"}
	// default: none
}

// Numbers read with UseNumber (as input.JSONL reads them) keep their text.
func ExampleTemplate_Execute_numbers() {
	dec := json.NewDecoder(strings.NewReader(`{"id": 12345678901234567890, "price": 9.90}`))
	dec.UseNumber()
	var rec map[string]any
	dec.Decode(&rec)
	t, _ := template.Parse("id=${{ .id }} price=${{ .price }} doubled=${{ .price * 2 }}")
	out, _ := t.Execute(rec)
	fmt.Println(out)
	// Output: id=12345678901234567890 price=9.90 doubled=19.8
}

// $${{ is a literal ${{; $$${{ is a literal $ and a placeholder.
func ExampleParse_escape() {
	t, _ := template.Parse("literal $${{ .x }}, price $$${{ .x }}, plain $HOME and {{ x }}")
	out, _ := t.Execute(map[string]any{"x": "5"})
	fmt.Println(out)
	fmt.Println(t.IsConstant())
	// Output:
	// literal ${{ .x }}, price $5, plain $HOME and {{ x }}
	// false
}

func ExampleParse_errors() {
	for _, src := range []string{
		"/users/${{ .id",
		"/users/${{ }}",
		"/users/${{ .id | }}",
		"/users/${{ .id ) }}",
		"/users/${{ nosuch(.id) }}",
	} {
		_, err := template.Parse(src)
		fmt.Println(err)
	}
	// Output:
	// column 8: unclosed placeholder: "${{" has no matching "}}"
	// column 8: empty placeholder: no expression between "${{" and "}}"
	// column 18: ${{ .id | }}: jq: unexpected EOF
	// column 16: ${{ .id ) }}: jq: unexpected token ")"
	// column 12: ${{ nosuch(.id) }}: jq: function not defined: nosuch/1
}

func ExampleTemplate_Execute_errors() {
	rec := map[string]any{"ids": []any{"a", "b"}, "n": "x"}
	for _, src := range []string{
		"/users/${{ .ids[] }}",
		"/users/${{ .ids[] | select(. == \"c\") }}",
		"/users/${{ .n + 1 }}",
		"/users/${{ .n | error(\"bad id: \" + .) }}",
	} {
		t, _ := template.Parse(src)
		_, err := t.Execute(rec)
		fmt.Println(err)
	}
	// Output:
	// column 8: ${{ .ids[] }}: more than one value
	// column 8: ${{ .ids[] | select(. == "c") }}: no value
	// column 8: ${{ .n + 1 }}: cannot add: string ("x") and number (1)
	// column 8: ${{ .n | error("bad id: " + .) }}: bad id: x
}

// A filling is bounded in time and size: past either, the error says so
// and wraps ErrTimeLimit or ErrSizeLimit.
func ExampleTemplate_ExecuteLimits() {
	lim := template.Limits{Time: 10 * time.Millisecond, Bytes: 16}
	for _, src := range []string{"${{ [repeat(1)] | length }}", `${{ "ab" * 10 }}`, "${{ .id }}"} {
		t, _ := template.Parse(src)
		out, err := t.ExecuteLimits(context.Background(), map[string]any{"id": "42"}, lim)
		fmt.Printf("%q %v %v %v\n", out, err, errors.Is(err, template.ErrTimeLimit), errors.Is(err, template.ErrSizeLimit))
	}
	// Output:
	// "" column 1: ${{ [repeat(1)] | length }}: stopped at the template time limit of 10ms true false
	// "" column 1: ${{ "ab" * 10 }}: over the template size limit of 16 bytes false true
	// "42" <nil> false false
}
