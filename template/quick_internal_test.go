package template

import (
	"testing"

	"github.com/itchyny/gojq"
)

// The choices are told from what only looks like one.
func TestChoiceOf(t *testing.T) {
	for expr, want := range map[string]bool{
		`if .a.b == "1" then "2s" else "10ms" end`:      true,
		`if .a != "" then "x" else "y" end`:             true,
		`if ."a".b == "1" then "x" else "y" end`:        true,
		`if .a == "1" then "x" elif .b then "y" end`:    false,
		`if .a == "1" then "x" end`:                     false,
		`if .a == 1 then "x" else "y" end`:              false,
		`if .a == "\(.b)" then "x" else "y" end`:        false,
		`if .a == "1" then "x" else .b end`:             false,
		`if .a[0] == "1" then "x" else "y" end`:         false,
		`if .a < "1" then "x" else "y" end`:             false,
		`(if .a == "1" then "x" else "y" end) | length`: false,
		`if .a == "1" then "x" else "y" end | length`:   false,
		`if .a == "1" then "x" else "y" end[0]`:         false,
	} {
		q, err := gojq.Parse(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got := choiceOf(q) != nil; got != want {
			t.Errorf("%s: a choice: %v, want %v", expr, got, want)
		}
	}
}
