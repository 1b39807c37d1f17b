package flow

import (
	"github.com/gogather/gather/template"
	"github.com/itchyny/gojq"
)

// dynamicReads reports whether a template string may read the steps'
// results in a way the text does not show: by the whole input (${{ . }},
// ${{ tojson }}, keys, to_entries, paths), by recursion (..), or by a
// computed key (.["steps"], getpath). Then every field of every step is
// built. An expression that does not parse is not this function's
// concern (Parse refuses it).
func dynamicReads(s string) bool {
	t, err := template.Parse(s)
	if err != nil {
		return false
	}
	for _, e := range t.Expressions() {
		q, err := gojq.Parse(e)
		if err != nil {
			return false
		}
		if !rootSafe(q) {
			return true
		}
	}
	return false
}

// rootSafe reports whether q, run on the whole data of an expression (the
// root: {input, steps, item, index}), reaches the root only by paths of
// names (.input.id, .steps.a.body, .item), which the textual scan of
// readFields sees. It errs on the unsafe side.
func rootSafe(q *gojq.Query) bool {
	if q == nil {
		return true
	}
	if len(q.FuncDefs) > 0 || q.Meta != nil || len(q.Imports) > 0 {
		return false
	}
	if q.Term != nil {
		return termSafe(q.Term)
	}
	switch q.Op {
	case gojq.OpPipe:
		if len(q.Patterns) > 0 { // term as $x | body: body runs on the root too
			return rootSafe(q.Left) && rootSafe(q.Right) && patternsSafe(q.Patterns)
		}
		// The right side runs on the left side's values: on the root
		// again only if the left side can give the root.
		return rootSafe(q.Left) && (!mayGiveRoot(q.Left) || rootSafe(q.Right))
	case gojq.OpComma, gojq.OpAdd, gojq.OpSub, gojq.OpMul, gojq.OpDiv, gojq.OpMod,
		gojq.OpEq, gojq.OpNe, gojq.OpGt, gojq.OpLt, gojq.OpGe, gojq.OpLe,
		gojq.OpAnd, gojq.OpOr, gojq.OpAlt:
		return rootSafe(q.Left) && rootSafe(q.Right)
	}
	return false // assignments and updates: paths of the root
}

// mayGiveRoot reports whether q may yield the root itself: anything but
// a path of names, a literal or a construction.
func mayGiveRoot(q *gojq.Query) bool {
	if q.Term == nil {
		switch q.Op {
		case gojq.OpComma, gojq.OpAlt:
			return mayGiveRoot(q.Left) || mayGiveRoot(q.Right)
		case gojq.OpPipe:
			return mayGiveRoot(q.Right) && (len(q.Patterns) > 0 || mayGiveRoot(q.Left))
		}
		return false // arithmetic and comparisons make new values
	}
	switch t := q.Term; t.Type {
	case gojq.TermTypeIndex, gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse,
		gojq.TermTypeNumber, gojq.TermTypeString, gojq.TermTypeObject, gojq.TermTypeArray, gojq.TermTypeUnary:
		return false
	case gojq.TermTypeIdentity:
		return len(t.SuffixList) == 0
	case gojq.TermTypeFunc:
		return t.Func.Name[0] != '$' || len(t.SuffixList) > 0
	}
	return true
}

// safeFuncs are functions that read nothing of their input but its
// truth or size.
var safeFuncs = map[string]bool{
	"empty": true, "error": true, "null": true, "true": true, "false": true, "not": true,
	"range": true, "now": true, "infinite": true, "nan": true, "length": true, "type": true,
}

func termSafe(t *gojq.Term) bool {
	for _, s := range t.SuffixList {
		if s.Index != nil && !indexSafe(s.Index) {
			return false
		}
	}
	switch t.Type {
	case gojq.TermTypeIdentity:
		// . alone gives the root; .[] or .[k] on it reach any key.
		return false
	case gojq.TermTypeIndex:
		return t.Index.Name != "" && indexSafe(t.Index) && !iterates(t)
	case gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse, gojq.TermTypeNumber:
		return true
	case gojq.TermTypeString:
		return stringSafe(t.Str)
	case gojq.TermTypeFunc:
		if !safeFuncs[t.Func.Name] && t.Func.Name[0] != '$' { // $x: a variable
			return false
		}
		for _, a := range t.Func.Args {
			if !rootSafe(a) {
				return false
			}
		}
		return true
	case gojq.TermTypeObject:
		for _, kv := range t.Object.KeyVals {
			if kv.Val == nil { // {input}, {$x}: a key of the root, or a variable
				if kv.Key != "input" && kv.Key != "item" && kv.Key != "index" && (kv.Key == "" || kv.Key[0] != '$') {
					return false
				}
				continue
			}
			if !rootSafe(kv.KeyQuery) || !rootSafe(kv.Val) || !stringSafe(kv.KeyString) {
				return false
			}
		}
		return true
	case gojq.TermTypeArray:
		return rootSafe(t.Array.Query)
	case gojq.TermTypeUnary:
		return termSafe(t.Unary.Term)
	case gojq.TermTypeIf:
		if !rootSafe(t.If.Cond) || !rootSafe(t.If.Then) || !rootSafe(t.If.Else) {
			return false
		}
		for _, e := range t.If.Elif {
			if !rootSafe(e.Cond) || !rootSafe(e.Then) {
				return false
			}
		}
		return true
	case gojq.TermTypeTry:
		return rootSafe(t.Try.Body) && rootSafe(t.Try.Catch)
	case gojq.TermTypeReduce: // the update runs on the state, the root only if the start may be
		r := t.Reduce
		return rootSafe(r.Query) && rootSafe(r.Start) && (!mayGiveRoot(r.Start) || rootSafe(r.Update))
	case gojq.TermTypeForeach:
		f := t.Foreach
		return rootSafe(f.Query) && rootSafe(f.Start) && (!mayGiveRoot(f.Start) || rootSafe(f.Update) && rootSafe(f.Extract))
	case gojq.TermTypeQuery:
		return rootSafe(t.Query) && (len(t.SuffixList) == 0 || !mayGiveRoot(t.Query))
	}
	return false // .., @format on the root, label/break
}

// indexSafe reports whether an index is a name, or an index or slice by
// expressions safe on the root; a string key (.["steps"]) is not.
func indexSafe(ix *gojq.Index) bool {
	if ix.Name != "" {
		return true
	}
	if ix.Str != nil {
		return false
	}
	return rootSafe(ix.Start) && rootSafe(ix.End)
}

// iterates reports whether a path iterates (.[]) right at the root or at
// .steps, reaching every key.
func iterates(t *gojq.Term) bool {
	if t.Index.Name == "steps" && len(t.SuffixList) > 0 {
		s := t.SuffixList[0]
		return s.Iter || s.Index != nil && s.Index.Name == ""
	}
	return false
}

func stringSafe(s *gojq.String) bool {
	if s == nil {
		return true
	}
	for _, q := range s.Queries {
		if !rootSafe(q) {
			return false
		}
	}
	return true
}

// patternsSafe reports whether destructuring patterns compute no key on
// the root ({(f): $v}, {"\(f)": $v}); {$name} and {key: $v} do not.
func patternsSafe(ps []*gojq.Pattern) bool {
	for _, p := range ps {
		if !patternsSafe(p.Array) {
			return false
		}
		for _, o := range p.Object {
			if o.KeyQuery != nil || o.KeyString != nil && len(o.KeyString.Queries) > 0 {
				return false
			}
			if o.Val != nil && !patternsSafe([]*gojq.Pattern{o.Val}) {
				return false
			}
		}
	}
	return true
}
