package template

import (
	"encoding/json"
	"math/big"

	"github.com/itchyny/gojq"
)

// quickFuncs are builtins that run in one step over their input and
// arguments: no loop, no recursion, no generator.
var quickFuncs = map[string]bool{
	"length": true, "utf8bytelength": true, "not": true, "keys": true, "keys_unsorted": true,
	"has": true, "in": true, "type": true, "tostring": true, "tonumber": true, "tojson": true,
	"fromjson": true, "ascii_downcase": true, "ascii_upcase": true, "ltrimstr": true, "rtrimstr": true,
	"startswith": true, "endswith": true, "null": true, "true": true, "false": true, "empty": true,
	"error": true, "floor": true, "ceil": true, "round": true, "sqrt": true, "fabs": true,
	"abs": true, "add": true, "join": true, "first": true, "last": true, "values": true,
	"select": true, "split": true, "trim": true, "ltrim": true, "rtrim": true, "min": true, "max": true,
	"reverse": true, "sort": true, "unique": true, "flatten": true, "test": true, "ascii": true,
	"@base64": true, "@uri": true, "@text": true, "@json": true, "@html": true, "@csv": true, "@tsv": true, "@sh": true,
	"tostream": false, "range": false, "repeat": false, "recurse": false, "while": false, "until": false,
	"limit": false, "env": true, "now": true, "todate": true, "fromdate": true,
}

// quick reports whether a query cannot run long (see Template.Quick).
func quick(q *gojq.Query) bool {
	if q == nil {
		return true
	}
	if len(q.FuncDefs) > 0 || q.Meta != nil || len(q.Imports) > 0 {
		return false
	}
	if q.Term != nil {
		return quickTerm(q.Term)
	}
	return quick(q.Left) && quick(q.Right)
}

func quickTerm(t *gojq.Term) bool {
	for _, s := range t.SuffixList {
		if s.Index != nil && (!quick(s.Index.Start) || !quick(s.Index.End) || s.Index.Str != nil && !quickString(s.Index.Str)) {
			return false
		}
	}
	switch t.Type {
	case gojq.TermTypeIdentity, gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse, gojq.TermTypeNumber:
		return true
	case gojq.TermTypeIndex:
		return quick(t.Index.Start) && quick(t.Index.End) && quickString(t.Index.Str)
	case gojq.TermTypeString:
		return quickString(t.Str)
	case gojq.TermTypeFormat:
		return quickFuncs[t.Format] && quickString(t.Str)
	case gojq.TermTypeFunc:
		if t.Func.Name[0] != '$' && !quickFuncs[t.Func.Name] {
			return false
		}
		for _, a := range t.Func.Args {
			if !quick(a) {
				return false
			}
		}
		return true
	case gojq.TermTypeObject:
		for _, kv := range t.Object.KeyVals {
			if !quick(kv.KeyQuery) || !quick(kv.Val) || !quickString(kv.KeyString) {
				return false
			}
		}
		return true
	case gojq.TermTypeArray:
		return quick(t.Array.Query)
	case gojq.TermTypeUnary:
		return quickTerm(t.Unary.Term)
	case gojq.TermTypeIf:
		if !quick(t.If.Cond) || !quick(t.If.Then) || !quick(t.If.Else) {
			return false
		}
		for _, e := range t.If.Elif {
			if !quick(e.Cond) || !quick(e.Then) {
				return false
			}
		}
		return true
	case gojq.TermTypeTry:
		return quick(t.Try.Body) && quick(t.Try.Catch)
	case gojq.TermTypeQuery:
		return quick(t.Query)
	}
	return false // .., reduce, foreach, label
}

func quickString(s *gojq.String) bool {
	if s == nil {
		return true
	}
	for _, q := range s.Queries {
		if !quick(q) {
			return false
		}
	}
	return true
}

// namePath returns the keys of a query that is a plain path of names from
// its input (.a.b.c, ."a".b), or nil.
func namePath(q *gojq.Query) []string {
	if q == nil || q.Term == nil || len(q.FuncDefs) > 0 || q.Meta != nil || len(q.Imports) > 0 {
		return nil
	}
	t := q.Term
	if t.Type != gojq.TermTypeIndex || t.Index == nil {
		return nil
	}
	key, ok := indexName(t.Index)
	if !ok {
		return nil
	}
	path := []string{key}
	for _, s := range t.SuffixList {
		if s.Index == nil || s.Iter || s.Optional {
			return nil
		}
		key, ok := indexName(s.Index)
		if !ok {
			return nil
		}
		path = append(path, key)
	}
	return path
}

// indexName returns the key of an index by a name or a constant string.
func indexName(ix *gojq.Index) (string, bool) {
	switch {
	case ix.Name != "" && ix.Start == nil && ix.End == nil && !ix.IsSlice:
		return ix.Name, true
	case ix.Str != nil && len(ix.Str.Queries) == 0 && ix.Start == nil && !ix.IsSlice:
		return ix.Str.Str, true
	}
	return "", false
}

// lookup follows path through nested objects, as jq's .a.b.c does: a
// missing key is null. ok is false when a step is not an object (nor
// null): gojq then gives the error jq gives.
func lookup(v map[string]any, path []string) (any, bool) {
	var cur any = v
	for _, k := range path {
		switch m := cur.(type) {
		case map[string]any:
			cur = m[k]
		case nil:
			return nil, true
		default:
			return nil, false
		}
	}
	switch cur.(type) {
	case nil, bool, string, float64, int, json.Number, []any, map[string]any, *big.Int:
		return cur, true
	}
	return nil, false // a type gojq may refuse: let it say so
}

// A choice is an expression that picks one of two constant strings by
// comparing a plain path with a constant string: if .a.b == "x" then "y"
// else "z" end (or !=). Its value is found by a map lookup and a
// comparison, without running gojq.
type choice struct {
	path      []string
	eq        string
	ne        bool // the comparison is !=
	then, els string
}

// choiceOf returns q as a choice, or nil.
func choiceOf(q *gojq.Query) *choice {
	if q == nil || q.Term == nil || len(q.FuncDefs) > 0 || q.Meta != nil || len(q.Imports) > 0 {
		return nil
	}
	t := q.Term
	if t.Type != gojq.TermTypeIf || len(t.SuffixList) > 0 || len(t.If.Elif) > 0 || t.If.Else == nil {
		return nil
	}
	cond := t.If.Cond
	if cond == nil || cond.Term != nil || cond.Op != gojq.OpEq && cond.Op != gojq.OpNe || len(cond.Patterns) > 0 {
		return nil
	}
	c := &choice{path: namePath(cond.Left), ne: cond.Op == gojq.OpNe}
	var ok [3]bool
	c.eq, ok[0] = constString(cond.Right)
	c.then, ok[1] = constString(t.If.Then)
	c.els, ok[2] = constString(t.If.Else)
	if c.path == nil || ok != [3]bool{true, true, true} {
		return nil
	}
	return c
}

// constString returns the string a query is, when it is a string literal
// without interpolation.
func constString(q *gojq.Query) (string, bool) {
	if q == nil || q.Term == nil || len(q.FuncDefs) > 0 || q.Meta != nil || len(q.Imports) > 0 {
		return "", false
	}
	t := q.Term
	if t.Type != gojq.TermTypeString || len(t.SuffixList) > 0 || t.Str == nil || len(t.Str.Queries) > 0 {
		return "", false
	}
	return t.Str.Str, true
}

// value returns the choice's value for fields, as jq gives it; ok is
// false when the path does not lead through objects (gojq then says
// what jq says).
func (c *choice) value(fields map[string]any) (v any, ok bool) {
	x, ok := lookup(fields, c.path)
	if !ok {
		return nil, false
	}
	s, isString := x.(string)
	if (isString && s == c.eq) != c.ne { // a string equals a string only
		return c.then, true
	}
	return c.els, true
}
