package flow

import (
	"regexp"
	"slices"
	"strings"

	"github.com/gogather/gather/internal/yamlcheck"
)

// fields says which parts of an http step's result some expression may
// read: building .body (decoding JSON), .text and .headers costs more
// than the request itself on a fast upstream, so a step builds only those
// that are read.
type fields struct {
	body, text, headers bool
	// keys, when not nil, are the only keys of the body that expressions
	// read: every reference to it is .steps.NAME.body.KEY. Of a body that
	// is a JSON object, only these keys are decoded (decodeJSONKeys).
	// nil when the body is read whole, or not at all.
	keys []string
}

var allFields = fields{body: true, text: true, headers: true}

// stepsRef finds .steps, and the step name and field after it, and after
// .body a key (.steps.NAME.body.KEY).
var stepsRef = regexp.MustCompile(`\.steps\b(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))?(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))?(?:\s*\.([A-Za-z_][A-Za-z0-9_]*))?`)

// readFields returns, for each step, the fields of its result that the
// flow's expressions may read. It errs on the side of building: .steps.NAME
// followed by anything but .FIELD (a pipe, [], a bracket) reads every
// field of NAME; .steps not followed by .NAME (.steps | keys, .steps[$x]),
// and an expression that reaches the data other than by paths of names
// (${{ . }}, tojson, .., getpath, .["steps"]: see dynamicReads), read
// every field of every step. A
// step's asserts see its own result at the top level: an assert that
// mentions body, text or headers anywhere reads it. extra are more
// expressions that see .steps (a gateway's response).
//
// A body of which every reference is .steps.NAME.body.KEY (a name, not a
// pipe, a bracket or a ?) is read only at those keys: its fields' keys
// lists them. Any other reference to it (.steps.NAME.body alone, or
// followed by anything else), a reference to the whole step, an assert of
// the step that mentions body, or a dynamic read reads it whole.
func readFields(f *Flow, extra ...string) map[string]fields {
	out := make(map[string]fields, len(f.Steps))
	keys := map[string]map[string]bool{} // the body keys read, by step
	whole := map[string]bool{}           // the steps whose body is read whole
	everything := false
	scan := func(s string) {
		if !strings.Contains(s, "${{") {
			return
		}
		if dynamicReads(s) {
			everything = true
			return
		}
		for _, m := range stepsRef.FindAllStringSubmatch(s, -1) {
			name, field, key := m[1], m[2], m[3]
			switch {
			case name == "":
				everything = true
			case field == "":
				out[name] = allFields
				whole[name] = true
			default:
				fl := out[name]
				switch field {
				case "body":
					fl.body = true
					if key == "" {
						whole[name] = true
					} else {
						if keys[name] == nil {
							keys[name] = map[string]bool{}
						}
						keys[name][key] = true
					}
				case "text":
					fl.text = true
				case "headers":
					fl.headers = true
				}
				out[name] = fl
			}
		}
	}
	for _, s := range f.Steps {
		for _, e := range stepExpressions(s) {
			scan(e)
		}
		for _, a := range s.Assert {
			fl := out[s.Name]
			if strings.Contains(a, "body") {
				fl.body = true
				whole[s.Name] = true
			}
			fl.text = fl.text || strings.Contains(a, "text")
			fl.headers = fl.headers || strings.Contains(a, "headers")
			out[s.Name] = fl
		}
	}
	yamlcheck.WalkStrings(f.Output, scan)
	for _, e := range extra {
		scan(e)
	}
	if everything {
		for name := range f.Steps {
			out[name] = allFields
		}
		return out
	}
	for name, fl := range out {
		if fl.body && !whole[name] {
			for k := range keys[name] {
				fl.keys = append(fl.keys, k)
			}
			slices.Sort(fl.keys)
			out[name] = fl
		}
	}
	return out
}

// stepExpressions returns every string of step s that may hold an
// expression.
func stepExpressions(s *Step) []string {
	list := []string{s.If, s.ForEach}
	list = append(list, s.Assert...)
	if h := s.HTTP; h != nil {
		list = append(list, h.Method, h.URL, h.Body)
		for _, v := range h.Headers {
			list = append(list, v)
		}
		for _, v := range h.Form {
			list = append(list, v)
		}
		yamlcheck.WalkStrings(h.JSON, func(v string) { list = append(list, v) })
	}
	if x := s.Exec; x != nil {
		list = append(list, x.Stdin, x.Dir)
		list = append(list, x.Command...)
		for _, v := range x.Env {
			list = append(list, v)
		}
	}
	return list
}
