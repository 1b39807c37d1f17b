package flow

import (
	"github.com/gogather/gather/internal/yamlcheck"
	"regexp"
	"strings"
)

// fields says which parts of an http step's result some expression may
// read: building .body (decoding JSON), .text and .headers costs more
// than the request itself on a fast upstream, so a step builds only those
// that are read.
type fields struct{ body, text, headers bool }

var allFields = fields{true, true, true}

// stepsRef finds .steps, and the step name and field after it.
var stepsRef = regexp.MustCompile(`\.steps\b(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))?(?:\s*\.\s*([A-Za-z_][A-Za-z0-9_]*))?`)

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
func readFields(f *Flow, extra ...string) map[string]fields {
	out := make(map[string]fields, len(f.Steps))
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
			name, field := m[1], m[2]
			switch {
			case name == "":
				everything = true
			case field == "":
				out[name] = allFields
			default:
				fl := out[name]
				switch field {
				case "body":
					fl.body = true
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
			fl.body = fl.body || strings.Contains(a, "body")
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
