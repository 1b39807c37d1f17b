package flow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gogather/gather/internal/suggest"
	"github.com/gogather/gather/internal/yamlcheck"
	"github.com/gogather/gather/template"
	"go.yaml.in/yaml/v3"
)

// A Flow is a parsed and validated flow file.
type Flow struct {
	File  string           // the name given to Parse
	Steps map[string]*Step // by name
	Order []string         // a topological order: every step after all it needs; ties by name
	// Output is the raw output value decoded from YAML (nil when absent);
	// its strings may hold expressions.
	Output any
	// OutputKeys are the keys of Output when it is a mapping, in the
	// file's order (nil otherwise): the columns of the CSV of results.
	OutputKeys []string
}

// A Step is one node of the graph: an HTTP request or a process to run.
type Step struct {
	Name        string
	Needs       []string // explicit and implied by .steps.X references; sorted, no duplicates
	If          string   // an expression; "" when absent
	ForEach     string   // an expression giving a list; "" when absent
	Concurrency int      // with ForEach; 0 when absent
	Optional    bool
	Retries     int
	Timeout     time.Duration // 0 when absent
	Assert      []string      // expressions
	// Cache keeps the step's successful answers this long (at most as
	// long as their Cache-Control allows), shared by every run on an
	// Engine: an http GET or HEAD step only; 0 when absent.
	Cache     time.Duration
	HTTP      *HTTP // exactly one of HTTP and Exec is set
	Exec      *Exec
	Line, Col int // the position of the step's name in the file
}

// Body kinds of an HTTP step.
const (
	BodyNone = ""
	BodyJSON = "json"
	BodyForm = "form"
	BodyText = "body"
)

// HTTP is an HTTP request step.
type HTTP struct {
	Method   string // GET by default
	URL      string
	Headers  map[string]string
	BodyKind string            // BodyNone, BodyJSON, BodyForm or BodyText
	JSON     any               // with BodyJSON: the raw value decoded from YAML
	Form     map[string]string // with BodyForm
	Body     string            // with BodyText
}

// Exec is a step that runs a process.
type Exec struct {
	Command []string // program and arguments
	Stdin   string
	Env     map[string]string
	Dir     string
	Timeout time.Duration
}

// An Error is one problem in a flow file, at a position.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// Errors is every problem found in a flow file, sorted by position.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors, so errors.As finds the first *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

var httpMethod = regexp.MustCompile(`^[A-Za-z]+$`)

var stepName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// stepRef finds .steps.NAME references in expression text.
var stepRef = regexp.MustCompile(`\.steps\.([A-Za-z_][A-Za-z0-9_]*)`)

var (
	topKeys  = []string{"steps", "output"}
	stepKeys = []string{"http", "exec", "needs", "if", "for_each", "concurrency", "optional", "retries", "timeout", "assert", "cache"}
	httpKeys = []string{"method", "url", "headers", "json", "form", "body"}
	execKeys = []string{"command", "stdin", "env", "dir", "timeout"}
)

// A ref is a .steps.X reference found in an expression.
type ref struct {
	name      string
	line, col int
}

type parser struct {
	yamlcheck.Checker
	file  string
	lines []string // the file's lines, to place errors inside values
	errs  Errors
	refs  []ref // of the step or output being parsed
	// dynamic are the uses of .steps other than as .steps.NAME, and
	// items the uses of .item and .index, in the step or output being
	// parsed.
	dynamic, items []ref
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errorAt(n.Line, n.Column, format, args...)
}

func (p *parser) errorAt(line, col int, format string, args ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// Parse parses and validates the flow file data; name is the file's name,
// used in errors. It returns either a valid flow and a nil error, or a nil
// flow and an Errors holding every problem found, sorted by position.
func Parse(name string, data []byte) (*Flow, error) {
	p := newParser(name, data)
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	err := dec.Decode(&doc)
	if err == io.EOF {
		err = nil
	}
	if err == nil {
		var more yaml.Node
		switch err2 := dec.Decode(&more); {
		case err2 == nil && len(more.Content) > 0:
			p.errorf(more.Content[0], "a flow file holds one YAML document: this is a second one")
		case err2 != nil && err2 != io.EOF:
			p.yamlError(err2)
		}
	}
	if err != nil {
		p.yamlError(err)
		return nil, p.errs
	}
	var f *Flow
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errorAt(1, 1, `empty flow: a flow is a mapping with "steps"`)
	} else {
		f = p.flow(doc.Content[0])
	}
	return p.result(f)
}

// ParseNode parses and validates a flow written inside another YAML file
// (a gateway's route): n is the flow's mapping in the decoded file, data
// the file's text and name its name, so that errors name their place in
// that file. It returns what Parse does.
func ParseNode(name string, data []byte, n *yaml.Node) (*Flow, error) {
	p := newParser(name, data)
	return p.result(p.flow(n))
}

func newParser(name string, data []byte) *parser {
	p := &parser{file: name, lines: strings.Split(string(data), "\n")}
	p.Errorf = p.errorf
	return p
}

// result is the flow f, or the errors found, sorted by position.
func (p *parser) result(f *Flow) (*Flow, error) {
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i], p.errs[j]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			if a.Col != b.Col {
				return a.Col < b.Col
			}
			return a.Msg < b.Msg
		})
		// A value shared through a YAML alias is checked once per use:
		// report each of its errors once.
		p.errs = slices.CompactFunc(p.errs, func(a, b *Error) bool { return *a == *b })
		return nil, p.errs
	}
	return f, nil
}

// parserProblem reports whether msg is one of the YAML parser's (not
// scanner's) problems. yaml.v3 numbers the lines of those from 0 (and
// names the line where the enclosing collection starts), those of the
// scanner from 1.
func parserProblem(msg string) bool {
	switch msg {
	case "did not find expected <stream-start>",
		"did not find expected <document start>",
		"found undefined tag handle",
		"did not find expected key",
		"did not find expected '-' indicator",
		"did not find expected node content",
		"did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
		"found duplicate %YAML directive",
		"found incompatible YAML document",
		"found duplicate %TAG directive":
		return true
	}
	return false
}

// yamlError reports a YAML syntax error, at the line yaml.v3 names.
func (p *parser) yamlError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		if parserProblem(msg) {
			line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.errorAt(line, 1, "invalid YAML: %s", msg)
}

// expr parses a string as a template, reporting a bad expression and
// collecting .steps.X references.
func (p *parser) expr(n *yaml.Node, what string) (string, bool) {
	s, ok := p.Scalar(n, what)
	if !ok {
		return "", false
	}
	return s, p.template(n, s)
}

// column maps a 1-based byte column in n's value to a position in the
// file, when the value is written on one line as it is (plain, or quoted
// without escapes): the line's text is checked to hold it. Otherwise it
// returns n's position. Columns count characters, as yaml.v3's do.
func (p *parser) column(n *yaml.Node, col int) (int, int) {
	if n.Line < 1 || n.Line > len(p.lines) || n.Column < 1 {
		return n.Line, n.Column
	}
	text := p.lines[n.Line-1]
	off := 0 // the byte offset of n.Column in text
	for i := 1; i < n.Column; i++ {
		if off >= len(text) {
			return n.Line, n.Column
		}
		_, size := utf8.DecodeRuneInString(text[off:])
		off += size
	}
	want := n.Value
	switch n.Style {
	case 0:
	case yaml.DoubleQuotedStyle:
		want = `"` + n.Value + `"`
	case yaml.SingleQuotedStyle:
		want = "'" + n.Value + "'"
	default:
		return n.Line, n.Column
	}
	if !strings.HasPrefix(text[off:], want) {
		return n.Line, n.Column
	}
	at := off + col - 1
	if n.Style != 0 {
		at++ // the opening quote
	}
	return n.Line, utf8.RuneCountInString(text[:min(at, len(text))]) + 1
}

func (p *parser) template(n *yaml.Node, s string) bool {
	t, err := template.Parse(s)
	if err != nil {
		var te *template.Error
		if errors.As(err, &te) {
			line, col := p.column(n, te.Column)
			if te.Expr != "" {
				p.errorAt(line, col, "bad expression ${{%s}}: %s", te.Expr, te.Msg)
			} else {
				p.errorAt(line, col, "bad expression: %s", te.Msg)
			}
		} else {
			p.errorf(n, "bad expression: %v", err)
		}
		return false
	}
	if t.IsConstant() {
		return true
	}
	start := strings.Index(s, "${{")
	if start < 0 {
		start = 0
	}
	for _, m := range stepRef.FindAllStringSubmatchIndex(s[start:], -1) {
		line, col := p.column(n, start+m[0]+1)
		p.refs = append(p.refs, ref{name: s[start+m[2] : start+m[3]], line: line, col: col})
	}
	for _, m := range stepsUse.FindAllStringSubmatchIndex(s[start:], -1) {
		if m[2] < 0 || s[start+m[0]] == '"' { // .steps not followed by .NAME, or "steps"
			line, col := p.column(n, start+m[0]+1)
			p.dynamic = append(p.dynamic, ref{name: s[start+m[0] : start+m[1]], line: line, col: col})
		}
	}
	for _, m := range itemUse.FindAllStringSubmatchIndex(s[start:], -1) {
		line, col := p.column(n, start+m[2]+1)
		p.items = append(p.items, ref{name: s[start+m[2] : start+m[3]], line: line, col: col})
	}
	return true
}

// stepsUse finds .steps (with the name after it, if any) and "steps" (a
// key written as a string: getpath(["steps", ...]), .["steps"]).
var stepsUse = regexp.MustCompile(`\.steps\b(\s*\.\s*[A-Za-z_])?|"steps"`)

// itemUse finds .item and .index at the start of a path: not after a
// name (.input.item), a bracket, a variable or another path.
var itemUse = regexp.MustCompile(`(?:^|[^A-Za-z0-9_\])"?.$])(\.(?:item|index))\b`)

// templates parses every string in an arbitrary value as a template; each
// node is visited once, so aliases cannot make it blow up.
func (p *parser) templates(n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	switch n.Kind {
	case yaml.AliasNode:
		p.templates(n.Alias, seen)
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			p.template(n, n.Value)
		}
	case yaml.MappingNode, yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			p.templates(c, seen)
		}
	}
}

func (p *parser) stringMap(n *yaml.Node, what string) map[string]string {
	keys, vals, ok := p.Mapping(n, what, nil)
	if !ok {
		return nil
	}
	m := make(map[string]string, len(keys))
	for i, k := range keys {
		v, ok := p.expr(vals[i], fmt.Sprintf("%s %q", what, k.Value))
		if ok {
			m[k.Value] = v
		}
	}
	return m
}

func (p *parser) decode(n *yaml.Node, what string) any {
	var v any
	if err := n.Decode(&v); err != nil {
		p.errorf(n, "%s: %s", what, strings.TrimPrefix(err.Error(), "yaml: "))
		return nil
	}
	return v
}

type stepNode struct {
	step     *Step
	needs    []ref // explicit needs
	implied  []ref
	nameNode *yaml.Node
}

func (p *parser) flow(root *yaml.Node) *Flow {
	root = yamlcheck.Deref(root)
	f := &Flow{File: p.file, Steps: map[string]*Step{}}
	keys, vals, ok := p.Mapping(root, "the flow", topKeys)
	if !ok {
		return f
	}
	var stepsNode, outNode *yaml.Node
	for i, k := range keys {
		switch k.Value {
		case "steps":
			stepsNode = vals[i]
		case "output":
			outNode = vals[i]
		}
	}
	if stepsNode == nil {
		p.errorf(root, `the flow has no "steps"`)
		return f
	}
	var nodes []*stepNode
	names, svals, ok := p.Mapping(stepsNode, `"steps"`, nil)
	if ok && len(names) == 0 {
		p.errorf(stepsNode, `"steps" is empty: a flow needs at least one step`)
	}
	for i, k := range names {
		if !stepName.MatchString(k.Value) {
			p.errorf(k, "invalid step name %q: use letters, digits and _, not starting with a digit", k.Value)
			continue
		}
		if k.Value == "input" || k.Value == "output" {
			p.errorf(k, "step name %q is reserved: a record's error names %q when it is not a step's; choose another name", k.Value, k.Value)
			continue
		}
		sn := p.step(k, svals[i])
		f.Steps[k.Value] = sn.step
		nodes = append(nodes, sn)
	}
	var outRefs []ref
	if outNode != nil {
		p.refs, p.dynamic, p.items = nil, nil, nil
		p.templates(outNode, map[*yaml.Node]bool{})
		outRefs = p.refs
		if len(p.items) > 0 {
			it := p.items[0]
			p.errorAt(it.line, it.col, `output reads %s, which only a step with "for_each" has`, it.name)
		}
		f.Output = p.decode(outNode, `"output"`)
		if m := yamlcheck.Deref(outNode); m.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(m.Content); i += 2 {
				if k := yamlcheck.Deref(m.Content[i]); k.Kind == yaml.ScalarNode && !slices.Contains(f.OutputKeys, k.Value) {
					f.OutputKeys = append(f.OutputKeys, k.Value)
				}
			}
		}
	}
	// Resolve needs.
	stepNames := make([]string, 0, len(f.Steps))
	for name := range f.Steps {
		stepNames = append(stepNames, name)
	}
	sort.Strings(stepNames)
	for _, sn := range nodes {
		set := map[string]bool{}
		for _, r := range sn.needs {
			if _, ok := f.Steps[r.name]; !ok {
				p.errorAt(r.line, r.col, "step %q needs %q, which does not exist%s", sn.step.Name, r.name, suggest.Closest(r.name, stepNames))
				continue
			}
			set[r.name] = true
		}
		for _, r := range sn.implied {
			if _, ok := f.Steps[r.name]; !ok {
				p.errorAt(r.line, r.col, "step %q refers to .steps.%s, which does not exist%s", sn.step.Name, r.name, suggest.Closest(r.name, stepNames))
				continue
			}
			set[r.name] = true
		}
		sn.step.Needs = make([]string, 0, len(set))
		for name := range set {
			sn.step.Needs = append(sn.step.Needs, name)
		}
		sort.Strings(sn.step.Needs)
	}
	for _, r := range outRefs {
		if _, ok := f.Steps[r.name]; !ok {
			p.errorAt(r.line, r.col, "output refers to .steps.%s, which does not exist%s", r.name, suggest.Closest(r.name, stepNames))
		}
	}
	f.Order = p.order(f, stepNames)
	return f
}

func (p *parser) step(k, n *yaml.Node) *stepNode {
	s := &Step{Name: k.Value, Line: k.Line, Col: k.Column}
	sn := &stepNode{step: s, nameNode: k}
	p.refs, p.dynamic, p.items = nil, nil, nil
	what := fmt.Sprintf("step %q", s.Name)
	keys, vals, ok := p.Mapping(n, what, stepKeys)
	if !ok {
		return sn
	}
	var concurrency, forEach, cacheNode *yaml.Node
	var hasHTTP, hasExec *yaml.Node
	for i, key := range keys {
		v := vals[i]
		field := fmt.Sprintf("%q of step %q", key.Value, s.Name)
		switch key.Value {
		case "http":
			hasHTTP = key
			s.HTTP = p.http(v, s.Name)
		case "exec":
			hasExec = key
			s.Exec = p.exec(v, s.Name)
		case "needs":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "%s must be a list of step names, not %s", field, yamlcheck.KindName(v))
				continue
			}
			for _, item := range v.Content {
				item = yamlcheck.Deref(item)
				if name, ok := p.Scalar(item, "an item of "+field); ok {
					sn.needs = append(sn.needs, ref{name: name, line: item.Line, col: item.Column})
				}
			}
		case "if":
			s.If, _ = p.expr(v, field)
		case "for_each":
			forEach = key
			s.ForEach, _ = p.expr(v, field)
			if s.ForEach != "" && !strings.Contains(s.ForEach, "${{") {
				p.errorf(v, "%s must be an expression ${{ ... }} giving a list", field)
			}
		case "concurrency":
			concurrency = key
			s.Concurrency = p.Integer(v, field, 1)
		case "optional":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				p.errorf(v, "%s must be true or false", field)
				continue
			}
			s.Optional = v.Value == "true" || v.Value == "True" || v.Value == "TRUE"
		case "retries":
			s.Retries = p.Integer(v, field, 0)
		case "timeout":
			s.Timeout = p.Duration(v, field)
		case "cache":
			cacheNode = v
			s.Cache = p.Duration(v, field)
		case "assert":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "%s must be a list of expressions, not %s", field, yamlcheck.KindName(v))
				continue
			}
			for _, item := range v.Content {
				item = yamlcheck.Deref(item)
				if e, ok := p.expr(item, "an item of "+field); ok {
					s.Assert = append(s.Assert, e)
				}
			}
		}
	}
	switch {
	case hasHTTP != nil && hasExec != nil:
		p.errorf(hasExec, `step %q has both "http" and "exec": a step has exactly one`, s.Name)
	case hasHTTP == nil && hasExec == nil:
		p.errorf(k, `step %q has neither "http" nor "exec": a step has exactly one`, s.Name)
	}
	if cacheNode != nil && (s.HTTP == nil || s.HTTP.Method != "GET" && s.HTTP.Method != "HEAD") {
		p.errorf(cacheNode, `"cache" of step %q needs an http step with method GET or HEAD`, s.Name)
	}
	if concurrency != nil && forEach == nil {
		p.errorf(concurrency, `"concurrency" of step %q needs "for_each"`, s.Name)
	}
	if len(p.dynamic) > 0 && len(sn.needs) == 0 {
		d := p.dynamic[0]
		p.errorAt(d.line, d.col, `step %q reads %s other than as .steps.NAME: which steps it needs cannot be told; write .steps.NAME, or list the steps it reads in "needs"`, s.Name, strings.TrimSpace(d.name))
	}
	if len(p.items) > 0 && forEach == nil {
		it := p.items[0]
		p.errorAt(it.line, it.col, `step %q reads %s, which only a step with "for_each" has`, s.Name, it.name)
	}
	sn.implied = p.refs
	p.refs, p.dynamic, p.items = nil, nil, nil
	return sn
}

func (p *parser) http(n *yaml.Node, step string) *HTTP {
	h := &HTTP{Method: "GET"}
	what := fmt.Sprintf("\"http\" of step %q", step)
	keys, vals, ok := p.Mapping(n, what, httpKeys)
	if !ok {
		return h
	}
	var body *yaml.Node
	hasURL := false
	for i, key := range keys {
		v := vals[i]
		field := fmt.Sprintf("%q of step %q", key.Value, step)
		switch key.Value {
		case "method":
			if m, ok := p.expr(v, field); ok {
				if !strings.Contains(m, "${{") && !httpMethod.MatchString(m) {
					p.errorf(v, "%s: invalid HTTP method %q", field, m)
				}
				h.Method = m
			}
		case "url":
			hasURL = true
			h.URL, _ = p.expr(v, field)
		case "headers":
			h.Headers = p.stringMap(v, field)
		case "json", "form", "body":
			if body != nil {
				p.errorf(key, "step %q has more than one body: %q and %q (choose one of json, form, body)", step, body.Value, key.Value)
				continue
			}
			body = key
			h.BodyKind = key.Value
			switch key.Value {
			case "json":
				p.templates(v, map[*yaml.Node]bool{})
				h.JSON = p.decode(v, field)
			case "form":
				h.Form = p.stringMap(v, field)
			case "body":
				h.Body, _ = p.expr(v, field)
			}
		}
	}
	if !hasURL {
		p.errorf(n, `"http" of step %q has no "url"`, step)
	}
	return h
}

func (p *parser) exec(n *yaml.Node, step string) *Exec {
	e := &Exec{}
	what := fmt.Sprintf("\"exec\" of step %q", step)
	keys, vals, ok := p.Mapping(n, what, execKeys)
	if !ok {
		return e
	}
	hasCommand := false
	for i, key := range keys {
		v := vals[i]
		field := fmt.Sprintf("%q of step %q", key.Value, step)
		switch key.Value {
		case "command":
			hasCommand = true
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "%s must be a list (program and arguments), not %s", field, yamlcheck.KindName(v))
				continue
			}
			if len(v.Content) == 0 {
				p.errorf(v, "%s is empty: it needs at least a program", field)
			}
			for _, item := range v.Content {
				item = yamlcheck.Deref(item)
				if a, ok := p.expr(item, "an item of "+field); ok {
					e.Command = append(e.Command, a)
				}
			}
		case "stdin":
			e.Stdin, _ = p.expr(v, field)
		case "env":
			e.Env = p.stringMap(v, field)
		case "dir":
			e.Dir, _ = p.expr(v, field)
		case "timeout":
			e.Timeout = p.Duration(v, field)
		}
	}
	if !hasCommand {
		p.errorf(n, `"exec" of step %q has no "command"`, step)
	}
	return e
}

// order returns a topological order of f's steps (ties broken by name),
// reporting every cycle.
func (p *parser) order(f *Flow, names []string) []string {
	indeg := map[string]int{}
	dependents := map[string][]string{}
	for _, name := range names {
		for _, need := range f.Steps[name].Needs {
			indeg[name]++
			dependents[need] = append(dependents[need], name)
		}
	}
	var ready, order []string
	for _, name := range names {
		if indeg[name] == 0 {
			ready = append(ready, name)
		}
	}
	for len(ready) > 0 {
		sort.Strings(ready)
		name := ready[0]
		ready = ready[1:]
		order = append(order, name)
		for _, d := range dependents[name] {
			indeg[d]--
			if indeg[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	if len(order) == len(names) {
		return order
	}
	// Some steps are on or behind cycles: report each strongly connected
	// component with a cycle once, as a cycle from its smallest name.
	for _, comp := range sccs(f, names) {
		first := comp[0]
		in := map[string]bool{}
		for _, c := range comp {
			in[c] = true
		}
		if len(comp) == 1 && !slices.Contains(f.Steps[first].Needs, first) {
			continue
		}
		path := cyclePath(f, first, in)
		s := f.Steps[first]
		p.errorAt(s.Line, s.Col, "needs cycle: %s (each step needs the next)", strings.Join(path, " -> "))
	}
	return nil
}

// sccs returns the strongly connected components of the needs graph, each
// sorted, via Tarjan's algorithm (iterative over sorted names, recursive
// per component: the depth is bounded by the number of steps).
func sccs(f *Flow, names []string) [][]string {
	index := map[string]int{}
	low := map[string]int{}
	on := map[string]bool{}
	var stack []string
	var out [][]string
	next := 0
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		on[v] = true
		for _, w := range f.Steps[v].Needs {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			sort.Strings(comp)
			out = append(out, comp)
		}
	}
	for _, n := range names {
		if _, seen := index[n]; !seen {
			visit(n)
		}
	}
	return out
}

// cyclePath returns a cycle from first back to first within the component
// in, following needs (in name order) by breadth-first search, so the
// shortest such cycle.
func cyclePath(f *Flow, first string, in map[string]bool) []string {
	prev := map[string]string{}
	queue := []string{first}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range f.Steps[v].Needs {
			if !in[w] {
				continue
			}
			if w == first {
				path := []string{first}
				for x := v; x != first; x = prev[x] {
					path = append(path, x)
				}
				slices.Reverse(path[1:])
				return append(path, first)
			}
			if _, seen := prev[w]; !seen {
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []string{first, first}
}
