// Package template fills text from a record: "https://api.example.com/users/${{ .id }}"
// becomes "https://api.example.com/users/42" for the record {"id": 42}.
//
// A placeholder ${{ expr }} holds a jq expression, evaluated by gojq
// (github.com/itchyny/gojq) with the record as its input "."; the
// expression is parsed and compiled once, by Parse. Everything outside
// placeholders is literal text.
//
// # Syntax
//
//   - ${{ starts a placeholder and the first }} outside the expression's
//     string literals and braces ends it, so ${{ "}}" }} and
//     ${{ {a: {b: .x}} | tojson }} work. White space inside is free.
//   - $${{ is a literal ${{. In general a run of n dollar signs right before
//     {{ stands for n/2 literal dollars (rounded down), and when n is odd
//     the last one starts a placeholder: $$${{ .price }} is a literal $
//     followed by the price. Dollars and braces anywhere else are literal
//     ($HOME, {{ x }}, $$, }}).
//   - jq comments (#) inside a placeholder are not recognised by the search
//     for the closing }}.
//
// # Values
//
// An expression must yield exactly one value:
//
//   - a string is inserted as is (as jq -r prints it);
//   - null is inserted as nothing, so a missing field gives an empty string
//     (write .x // error("no x") or .x | values to require it);
//   - numbers and booleans are inserted as JSON text; numbers that came in
//     as json.Number (as from input.JSONL) keep their text exactly, others
//     are formatted as jq formats them (3, 1.5, 1e+100);
//   - arrays and objects are inserted as compact JSON (jq's encoding: keys
//     sorted, no HTML escaping).
//
// No value (empty), more than one value, or an error (including error(...)
// and halt) make Execute fail with an *Error naming the placeholder.
//
// # Inputs
//
// The record's values must be of the types encoding/json decodes into an
// any (nil, bool, float64, json.Number, string, []any, map[string]any), or
// int or *big.Int, as gojq requires. Other types make Execute fail with an
// error rather than panic.
//
// Expressions see no environment variables ($ENV and env are empty),
// cannot read further inputs (input, inputs) and load no modules.
//
// # Functions
//
// Besides jq's own, expressions have two functions that take a text and
// return a list of strings (empty when nothing matches), in document order:
//
//   - xpath("EXPR") parses its input as XML and gives the texts of the
//     nodes the XPath 1.0 expression EXPR selects (antchfx/xmlquery and
//     antchfx/xpath): an element's text content (its text and CDATA, not
//     its comments), an attribute's value, a text or comment node's text.
//     An expression of another type gives one string: count(//item) gives
//     ["2"], boolean(//item) ["true"].
//   - css("SELECTOR") parses its input as HTML, as a browser does (it never
//     fails), and gives the text content of each element the CSS selector
//     matches (andybalholm/cascadia; no pseudo-elements).
//
// Text that is valid UTF-8 is read as UTF-8, whatever its XML declaration
// or <meta> says, as a body already decoded from latin1 is; other text is
// decoded by the encoding its XML declaration (ISO-8859-1, us-ascii,
// windows-1252, ...) or <meta> names. XML encodings that are not
// ASCII-compatible (UTF-16) are not read. XML must be well-formed; HTML's
// named entities (&nbsp;) are accepted. No DTD is read: no external entity
// or file is fetched, no declared entity expanded.
//
// Names in an XPath expression match the document's names as written:
// //dc:creator matches <dc:creator> whatever namespace dc is bound to, and
// in a document with a default namespace (<feed xmlns="...">), //entry
// matches <entry>. local-name() and namespace-uri() work in predicates:
// //*[local-name()='entry'].
//
// Errors (the input or argument not a string, an expression that does not
// compile, XML that does not parse, with its line) are jq errors, which
// try/catch catches. The 128 most recently used expressions and selectors
// (each up to 4 KiB) stay compiled. A call's input is bounded by its
// caller (a step's body is capped); its result by 32 MiB of text and 16 Mi
// nodes read to collect the texts (nested matches each count their
// descendants), past which it fails. A call runs to its end: the time limit
// is checked only after it, and a costly expression on a large document
// (nested // predicates) is not stopped.
//
// # Limits
//
// A template may come from anyone who can write a command line or a flow,
// so one filling of it (one Execute, ExecuteContext or ExecuteLimits call)
// is bounded (see Limits):
//
//   - time: DefaultTime (1 s) for all its expressions together, and the
//     caller's context (a cancel stops it at once). gojq checks both
//     between the steps of an expression, so a single step runs to its end
//     however long it takes: "x" * 2000000000 (gojq allows strings up to
//     2 GiB) or sorting a huge array.
//   - size: DefaultBytes (8 MiB) of text produced, literal text included.
//     A value is measured once computed (a string's length, an array's or
//     object's JSON), so it exists in memory before it is refused.
//   - values: an expression must yield one value, so at most two are
//     read (a second one is an error): repeat(1) ends at once.
//
// Memory is not bounded as such: gojq has no hook to measure it. What an
// expression holds while it runs is bounded only by what it can allocate
// in the time limit (in one measurement, [repeat(1)] | length reached
// about 50 MiB of heap in 1 s), plus any single step as said above.
package template

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/itchyny/gojq"
)

// A Template is parsed text with placeholders. It is immutable and safe for
// concurrent use.
type Template struct {
	src   string
	parts []part
	lit   string // the whole text, when there are no placeholders
	// size is what a filling's text starts with room for: the literal
	// text, and some bytes a placeholder.
	size int
}

// placeholderRoom is the room a filling's text starts with for each
// placeholder's value (an id, a word): the text is allocated once when
// the values are that short.
const placeholderRoom = 24

// A part is literal text (code == nil) or a placeholder.
type part struct {
	lit  string
	code *gojq.Code
	expr string // the placeholder's expression, as written
	col  int    // 1-based byte column of the placeholder's "${{"
	// quick says the expression cannot run long: paths, literals,
	// operators and builtins that take one step (no loop, recursion or
	// user function), so it runs without the time limit's checks.
	quick bool
	// path, when not nil, says the expression is a plain path of names
	// from the input (.input.id, .steps.a.body.x): its value is found by
	// map lookups, without running gojq, when every step is an object.
	path []string
	// choice, when not nil, says the expression picks one of two
	// constant strings by comparing a plain path with a third (if
	// .input.x == "1" then "a" else "b" end): the same, with a comparison.
	choice *choice
}

// An Error is an error in a template or in filling it.
type Error struct {
	Column int    // 1-based byte offset in the template text
	Expr   string // the placeholder's expression, when the error concerns one
	Msg    string
	Err    error // the underlying error (gojq's, or a context's), if any
}

func (e *Error) Error() string {
	if e.Expr == "" {
		return fmt.Sprintf("column %d: %s", e.Column, e.Msg)
	}
	return fmt.Sprintf("column %d: ${{%s}}: %s", e.Column, shorten(e.Expr), e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// shorten cuts a long expression for an error message.
func shorten(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Parse parses s, compiling each placeholder's expression. Its errors are
// *Error, with the column of the problem: an unclosed placeholder (the
// column of its ${{), an empty expression, or a jq syntax or compile error
// (the column of the offending token when gojq gives one).
func Parse(s string) (*Template, error) {
	t := &Template{src: s}
	var lit strings.Builder
	i := 0
	for {
		p := strings.Index(s[i:], "{{")
		if p < 0 {
			lit.WriteString(s[i:])
			break
		}
		p += i
		k := 0 // dollars right before p, after i
		for p-k-1 >= i && s[p-k-1] == '$' {
			k++
		}
		lit.WriteString(s[i : p-k])
		lit.WriteString(strings.Repeat("$", k/2))
		if k%2 == 0 {
			lit.WriteString("{{")
			i = p + 2
			continue
		}
		start := p - 1 // the "${{"
		end, err := closing(s, p+2)
		if err != nil {
			return nil, &Error{Column: start + 1, Msg: err.Error()}
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
		pl, perr := compile(s, start, p+2, end)
		if perr != nil {
			return nil, perr
		}
		t.parts = append(t.parts, pl)
		i = end + 2
	}
	if len(t.parts) == 0 {
		t.lit = lit.String()
		t.parts = nil
	} else if lit.Len() > 0 {
		t.parts = append(t.parts, part{lit: lit.String()})
	}
	for _, p := range t.parts {
		t.size += len(p.lit)
		if p.code != nil {
			t.size += placeholderRoom
		}
	}
	return t, nil
}

// closing returns the index of the "}}" that ends the expression starting
// at from: the first one outside string literals (with their \(...)
// interpolations) and outside braces the expression opened.
func closing(s string, from int) (int, error) {
	type frame struct {
		str    bool // in a string literal
		parens int  // in an expression: open parentheses
		braces int  // in an expression: open braces
	}
	stack := []frame{{}}
	for i := from; i < len(s); i++ {
		f := &stack[len(stack)-1]
		c := s[i]
		if f.str {
			switch c {
			case '\\':
				if i+1 < len(s) && s[i+1] == '(' {
					stack = append(stack, frame{})
				}
				i++
			case '"':
				stack = stack[:len(stack)-1]
			}
			continue
		}
		switch c {
		case '"':
			stack = append(stack, frame{str: true})
		case '(':
			f.parens++
		case ')':
			if f.parens > 0 {
				f.parens--
			} else if len(stack) > 1 { // the end of a \( interpolation
				stack = stack[:len(stack)-1]
			}
		case '{':
			f.braces++
		case '}':
			if f.braces > 0 {
				f.braces--
			} else if len(stack) == 1 && i+1 < len(s) && s[i+1] == '}' {
				return i, nil
			}
		}
	}
	if len(stack) > 1 {
		return 0, errors.New(`unclosed placeholder: "${{" has no matching "}}" (a string literal in it is not closed)`)
	}
	return 0, errors.New(`unclosed placeholder: "${{" has no matching "}}"`)
}

// compile compiles the expression s[from:end] of the placeholder at start.
func compile(s string, start, from, end int) (part, error) {
	expr := s[from:end]
	pl := part{expr: expr, col: start + 1}
	trimmed := strings.TrimLeft(expr, " \t\r\n")
	if strings.TrimSpace(trimmed) == "" {
		return pl, &Error{Column: start + 1, Msg: `empty placeholder: no expression between "${{" and "}}"`}
	}
	q, err := gojq.Parse(expr)
	if err != nil {
		col := from + len(expr) - len(trimmed) + 1
		var pe *gojq.ParseError
		if errors.As(err, &pe) {
			off := pe.Offset - len(pe.Token)
			if off < 0 || off > len(expr) {
				off = pe.Offset
			}
			col = from + min(max(off, 0), len(expr)) + 1
		}
		return pl, &Error{Column: col, Expr: expr, Msg: "jq: " + err.Error(), Err: err}
	}
	pl.quick = quick(q)
	pl.path = namePath(q)
	pl.choice = choiceOf(q)
	pl.code, err = gojq.Compile(q, functions...)
	if err != nil {
		col := from + len(expr) - len(trimmed) + 1
		return pl, &Error{Column: col, Expr: expr, Msg: "jq: " + err.Error(), Err: err}
	}
	return pl, nil
}

// String returns the template's text, as given to Parse.
func (t *Template) String() string { return t.src }

// IsConstant reports whether the template has no placeholders: Execute
// then always returns the same text (with escapes resolved).
func (t *Template) IsConstant() bool { return t.parts == nil }

// Default limits on one filling of a template: see Limits.
const (
	DefaultTime  = time.Second
	DefaultBytes = 8 << 20
)

// Limits bound one filling of a template (see the package's Limits
// section for what they do not bound). A zero field means its default.
type Limits struct {
	// Time bounds the evaluation of all the template's expressions: past
	// it, the filling fails with an *Error wrapping ErrTimeLimit. 0 means
	// DefaultTime; a negative Time means no limit but the context's.
	Time time.Duration
	// Bytes bounds the text produced, literal text included: past it, the
	// filling fails with an *Error wrapping ErrSizeLimit. 0 means
	// DefaultBytes; a negative Bytes means no limit.
	Bytes int
}

// WithTimeLimit returns a context that ends after d, its cause a time
// limit: the fillings given it, with a negative Limits.Time, share that
// one limit (and one timer), and fail as past their own Time would.
// A caller filling several templates at once (a request's URL, headers
// and body) saves a context and a timer per template so.
func WithTimeLimit(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, timeLimit(d))
}

// timeLimit is the cause of a context ended by WithTimeLimit.
type timeLimit time.Duration

func (t timeLimit) Error() string {
	return fmt.Sprintf("the template time limit of %v", time.Duration(t))
}
func (t timeLimit) Is(target error) bool { return target == ErrTimeLimit }

// ErrTimeLimit and ErrSizeLimit are wrapped by the *Error of a filling
// stopped by its Limits.
var (
	ErrTimeLimit = errors.New("the template time limit")
	ErrSizeLimit = errors.New("the template size limit")
)

// Execute fills the template from fields, the input "." of every
// expression, within the default Limits. See ExecuteLimits.
func (t *Template) Execute(fields map[string]any) (string, error) {
	return t.ExecuteLimits(context.Background(), fields, Limits{})
}

// ExecuteContext fills the template from fields, the input "." of every
// expression, within the default Limits and until ctx is done. See
// ExecuteLimits.
func (t *Template) ExecuteContext(ctx context.Context, fields map[string]any) (string, error) {
	return t.ExecuteLimits(ctx, fields, Limits{})
}

// ExecuteLimits fills the template from fields, the input "." of every
// expression, within lim. Its errors are *Error naming the placeholder.
// When ctx is done, the expression running is stopped at its next step
// and the error wraps ctx's error (context.Canceled,
// context.DeadlineExceeded); past lim, it wraps ErrTimeLimit or
// ErrSizeLimit. A template without placeholders never fails.
func (t *Template) ExecuteLimits(ctx context.Context, fields map[string]any, lim Limits) (string, error) {
	if t.parts == nil {
		return t.lit, nil
	}
	if lim.Time == 0 {
		lim.Time = DefaultTime
	}
	if lim.Bytes == 0 {
		lim.Bytes = DefaultBytes
	}
	if lim.Time > 0 && !t.Quick() {
		var cancel context.CancelFunc
		ctx, cancel = WithTimeLimit(ctx, lim.Time)
		defer cancel()
	}
	f := filling{ctx: ctx, lim: lim}
	if lim.Bytes >= 0 {
		f.sb.Grow(min(t.size, lim.Bytes))
	} else {
		f.sb.Grow(t.size)
	}
	for i := range t.parts {
		p := &t.parts[i]
		if p.code == nil {
			if err := f.fits(len(p.lit)); err != nil {
				return "", p.errorf(err, "%v", err)
			}
			f.sb.WriteString(p.lit)
			continue
		}
		if err := p.eval(&f, fields); err != nil {
			return "", err
		}
	}
	return f.sb.String(), nil
}

// Expressions returns the jq expressions of the template's placeholders,
// in order, as written.
func (t *Template) Expressions() []string {
	var out []string
	for _, p := range t.parts {
		if p.code != nil {
			out = append(out, p.expr)
		}
	}
	return out
}

// Quick reports whether every expression of the template is quick to
// run: paths, literals, operators and builtins that run in one step over
// their input (length, tostring, tojson, keys, has...), with no loop,
// recursion, user function or added function (xpath, css). Filling
// such a template checks no time limit: it has nothing to stop. (One
// step over a huge value still costs its size, as Limits says.)
func (t *Template) Quick() bool {
	for _, p := range t.parts {
		if p.code != nil && !p.quick {
			return false
		}
	}
	return true
}

// IsValue reports whether the template is exactly one placeholder, with
// no text around it (not even white space): Value then gives the
// expression's value with its JSON type.
func (t *Template) IsValue() bool { return len(t.parts) == 1 && t.parts[0].code != nil }

// Value evaluates the template to a value within lim. A template that is
// exactly one placeholder (IsValue) gives its expression's value as gojq
// yields it, with its JSON type: a number stays a number, null stays
// null, an array or object is passed whole (not copied: the caller must
// not modify it). Any other template gives its text (ExecuteLimits) as a
// string. The errors are ExecuteLimits's. A whole value is not measured
// against lim.Bytes: it is usually a value that already exists (a
// response's body passed on), and measuring it would cost encoding it;
// lim.Time bounds building it.
func (t *Template) Value(ctx context.Context, fields map[string]any, lim Limits) (any, error) {
	if !t.IsValue() {
		return t.ExecuteLimits(ctx, fields, lim)
	}
	if lim.Time == 0 {
		lim.Time = DefaultTime
	}
	if lim.Time > 0 && !t.Quick() {
		var cancel context.CancelFunc
		ctx, cancel = WithTimeLimit(ctx, lim.Time)
		defer cancel()
	}
	f := filling{ctx: ctx, lim: lim}
	return t.parts[0].value(&f, fields)
}

// A filling is the state of one ExecuteLimits.
type filling struct {
	ctx context.Context
	lim Limits
	sb  strings.Builder
}

// fits says whether n more bytes fit the size limit.
func (f *filling) fits(n int) error {
	if f.lim.Bytes >= 0 && f.sb.Len()+n > f.lim.Bytes {
		return fmt.Errorf("over %w of %d bytes", ErrSizeLimit, f.lim.Bytes)
	}
	return nil
}

// stopped returns the error of an expression's error value e: the time
// limit's when e is the end of the filling's own deadline, e otherwise.
func (f *filling) stopped(e error) (error, bool) {
	if (errors.Is(e, context.DeadlineExceeded) || errors.Is(e, context.Canceled)) && f.ctx.Err() != nil {
		var tl timeLimit
		if errors.As(context.Cause(f.ctx), &tl) {
			return fmt.Errorf("stopped at %w of %v", ErrTimeLimit, time.Duration(tl)), true
		}
		return e, true
	}
	return nil, false
}

// eval appends the value of the placeholder p to f's text.
func (p *part) eval(f *filling, fields map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil { // write's, for a value of a type JSON has not
			err = p.errorf(nil, "cannot evaluate (are all the record's values of JSON types?): %v", r)
		}
	}()
	v, err := p.value(f, fields)
	if err != nil {
		return err
	}
	if err := f.write(v); err != nil {
		return p.errorf(err, "%v", err)
	}
	return nil
}

// value returns the one value of the placeholder p.
func (p *part) value(f *filling, fields map[string]any) (v any, err error) {
	defer func() {
		// gojq panics on values of types it does not know (an int64, a
		// []string), even when formatting an error about them.
		if r := recover(); r != nil {
			v, err = nil, p.errorf(nil, "cannot evaluate (are all the record's values of JSON types?): %v", r)
		}
	}()
	if p.path != nil {
		if v, ok := lookup(fields, p.path); ok {
			return v, nil
		}
	}
	if p.choice != nil {
		if v, ok := p.choice.value(fields); ok {
			return v, nil
		}
	}
	var it gojq.Iter
	if f.ctx == context.Background() || p.quick && f.ctx.Err() == nil {
		it = p.code.Run(fields)
	} else {
		it = p.code.RunWithContext(f.ctx, fields)
	}
	v, ok := it.Next()
	if !ok {
		return nil, p.errorf(nil, "no value")
	}
	if e, ok := v.(error); ok {
		if stop, ok := f.stopped(e); ok {
			return nil, p.errorf(stop, "%v", stop)
		}
		return nil, p.errorf(e, "%s", errorMessage(e))
	}
	if second, ok := it.Next(); ok {
		if e, ok := second.(error); ok {
			if stop, ok := f.stopped(e); ok {
				return nil, p.errorf(stop, "%v", stop)
			}
		}
		return nil, p.errorf(nil, "more than one value")
	}
	return v, nil
}

func (p *part) errorf(err error, format string, args ...any) error {
	return &Error{Column: p.col, Expr: p.expr, Msg: fmt.Sprintf(format, args...), Err: err}
}

// errorMessage is the message of an error emitted by an expression: the
// text given to error("...") as is.
func errorMessage(e error) string {
	var he *gojq.HaltError
	if errors.As(e, &he) {
		switch v := he.Value().(type) {
		case nil:
			return "halt"
		case string:
			return "halt: " + v
		default:
			b, _ := gojq.Marshal(v)
			return "halt: " + string(b)
		}
	}
	var ve gojq.ValueError
	if errors.As(e, &ve) {
		if s, ok := ve.Value().(string); ok {
			return s
		}
	}
	return e.Error()
}

// write appends the text of the value v, if it fits the size limit.
func (f *filling) write(v any) error {
	switch v := v.(type) {
	case string:
		if err := f.fits(len(v)); err != nil {
			return err
		}
		f.sb.WriteString(v)
	case nil:
	case bool, int, float64, *big.Int, json.Number, []any, map[string]any:
		b, err := gojq.Marshal(v)
		if err != nil {
			return err
		}
		if err := f.fits(len(b)); err != nil {
			return err
		}
		f.sb.Write(b)
	default:
		panic(fmt.Sprintf("a value of type %T", v))
	}
	return nil
}
