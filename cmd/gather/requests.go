package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/textproto"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/gogather/gather/template"
)

// requestSpec says how each input becomes a request. Every input is a
// record: a CSV row, a JSONL object, or, for plain lines, {"url": line}.
// The URL, header values and body are templates over the record's fields.
type requestSpec struct {
	format  string             // lines, csv or jsonl
	method  string             // HTTP method
	url     *template.Template // nil: the record's url field as is
	headers []headerTemplate   // the -H values that vary per record
	body    *template.Template // nil: body is constant
	rawBody []byte             // the body when constant (or nil)
	keep    []string           // fields copied into the record

	skipped atomic.Int64 // lines skipped: blank, or a plain list's comments
	ended   atomic.Value // an error: why the input ended early
}

type headerTemplate struct {
	name  string
	value *template.Template
}

// inputFormat picks the input format: the flag's, else the file's
// extension, else plain lines.
func inputFormat(flag, name string) (string, error) {
	switch flag {
	case "lines", "csv", "jsonl":
		return flag, nil
	case "", "auto":
	default:
		return "", usageError("--input-format %q: want lines, csv or jsonl", flag)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return "csv", nil
	case ".jsonl", ".ndjson":
		return "jsonl", nil
	}
	return "lines", nil
}

// newRequestSpec parses the templates of the flags. Constant headers go to
// constHeader (sent with every request by the engine).
func newRequestSpec(format, method, urlTemplate string, headers []string, data []byte, keep []string, constHeader http.Header) (*requestSpec, error) {
	s := &requestSpec{format: format, method: method, keep: keep}
	if urlTemplate != "" {
		t, err := template.Parse(urlTemplate)
		if err != nil {
			return nil, usageError("--url: %v", err)
		}
		s.url = t
	}
	var parsed []headerTemplate
	varying := map[string]bool{} // names with a value that varies per record
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
		if !ok || name == "" {
			return nil, usageError("-H %q: want \"Name: value\"", h)
		}
		t, err := template.Parse(strings.TrimSpace(value))
		if err != nil {
			return nil, usageError("-H %q: %v", h, err)
		}
		parsed = append(parsed, headerTemplate{name, t})
		if !t.IsConstant() {
			varying[name] = true
		}
	}
	for _, h := range parsed {
		// A name with any varying value is sent per request with all its
		// values, since a request's own header replaces the common one.
		if varying[h.name] {
			s.headers = append(s.headers, h)
		} else {
			v, _ := h.value.Execute(nil) // a constant template cannot fail
			constHeader.Add(h.name, v)
		}
	}
	if data != nil {
		t, err := template.Parse(string(data))
		if err != nil {
			return nil, usageError("--data: %v", err)
		}
		if t.IsConstant() {
			v, _ := t.Execute(nil) // a constant template cannot fail
			s.rawBody = []byte(v)
		} else {
			s.body = t
		}
	}
	if format == "lines" && len(keep) > 0 {
		for _, k := range keep {
			if k != "url" {
				return nil, usageError("--keep %q: plain lines have only the field url", k)
			}
		}
	}
	return s, nil
}

// requestsContext reads r in the spec's format and yields one request per
// input. An input that cannot be read or whose template fails becomes a
// request with Err set, which the engine turns into a bad_input record.
//
// r may be the rest of an input resumed at start, with the CSV header read
// earlier (nil: r starts with it). take, when not nil, is told of every
// input record in order and says whether to fetch it (a job skips the
// inputs it has done).
//
// A plain list's blank lines and comments (# after optional white space),
// and a CSV or JSONL input's blank lines (empty or white space only), are
// no record: no request, not a failure. They are counted (skippedLines),
// and pass, when not nil, is told of each one's end, in order with take's
// calls; take never sees them. Line numbers stay those of the file.
//
// Once ctx is done, reading ends before the next record, which neither
// take nor the engine sees: a run being stopped may cut its input short
// in the middle of a line. A template running then is stopped at once and
// its record is not yielded either (it was taken: a job does not count it
// done, and reads it again on resume).
func (s *requestSpec) requestsContext(ctx context.Context, r io.Reader, start input.Pos, header []string, take func(num int, end input.Pos) bool, pass func(end input.Pos)) iter.Seq[fetch.Request] {
	return s.read(ctx, r, start, header, take, pass, func() bool { return ctx.Err() != nil })
}

func (s *requestSpec) read(ctx context.Context, r io.Reader, start input.Pos, header []string, take func(num int, end input.Pos) bool, pass func(end input.Pos), stop func() bool) iter.Seq[fetch.Request] {
	skip := func(end input.Pos) {
		s.skipped.Add(1)
		if pass != nil {
			pass(end)
		}
	}
	if s.format == "lines" && s.url == nil && len(s.headers) == 0 && s.body == nil && len(s.keep) == 0 {
		// Plain URLs, nothing to fill in: no record, no field map.
		return func(yield func(fetch.Request) bool) {
			for l := range input.LinesFrom(r, start) {
				if stop() {
					return
				}
				if l.Err == nil && skipLine(l.Text) {
					skip(l.End)
					continue
				}
				if take != nil && !take(l.Num, l.End) {
					continue
				}
				req := fetch.Request{Line: l.Num, Method: s.method, Body: s.rawBody}
				req.URL, req.Err = lineURL(l)
				if !yield(req) {
					return
				}
			}
		}
	}
	return func(yield func(fetch.Request) bool) {
		for rec := range s.records(r, start, header, skip, stop) {
			if stop() {
				return
			}
			if errors.Is(rec.Err, input.ErrEndsInput) {
				s.ended.Store(rec.Err)
			}
			if take != nil && !take(rec.Num, rec.End) {
				continue
			}
			req, ok := s.request(ctx, rec)
			if !ok || !yield(req) {
				return
			}
		}
	}
}

// records reads r in the spec's format. Skipped lines (a plain list's
// blank lines and comments, a CSV or JSONL input's blank lines) are no
// record: skip is told of them, unless stop says the run is stopping (the
// line may be cut short).
func (s *requestSpec) records(r io.Reader, start input.Pos, header []string, skip func(end input.Pos), stop func() bool) iter.Seq[input.Record] {
	var recs iter.Seq[input.Record]
	switch s.format {
	case "csv":
		recs = input.CSVFrom(r, start, header)
	case "jsonl":
		recs = input.JSONLFrom(r, start)
	}
	if recs != nil {
		return func(yield func(input.Record) bool) {
			for rec := range recs {
				if errors.Is(rec.Err, input.ErrEmptyLine) {
					if stop() {
						return
					}
					skip(rec.End)
					continue
				}
				if !yield(rec) {
					return
				}
			}
		}
	}
	return func(yield func(input.Record) bool) {
		for l := range input.LinesFrom(r, start) {
			if l.Err == nil && skipLine(l.Text) {
				if stop() {
					return
				}
				skip(l.End)
				continue
			}
			rec := input.Record{Num: l.Num, End: l.End, Err: l.Err}
			if rec.Err == nil {
				// The text is the URL or, with --url, data for it: request
				// checks its scheme in the first case.
				rec.Fields = map[string]any{"url": strings.TrimSpace(l.Text)}
			}
			if !yield(rec) {
				return
			}
		}
	}
}

// skipLine reports whether a plain list's line is skipped: blank (only
// white space) or a comment (# after optional white space).
func skipLine(text string) bool {
	text = strings.TrimSpace(text)
	return text == "" || text[0] == '#'
}

// skippedLines returns how many lines were skipped so far (blank lines,
// and a plain list's comments), over every sequence the spec made. It is
// safe to call while a sequence is read.
func (s *requestSpec) skippedLines() int64 { return s.skipped.Load() }

// endedEarly returns, once a sequence the spec made has ended, why its
// input ended before its last line was read as records, or nil: the error
// of the record that ended it (a CSV quoted field not closed, which read
// the rest of the input into itself; a bad CSV header), which wraps
// input.ErrEndsInput and says where. That record is a bad_input too.
func (s *requestSpec) endedEarly() error {
	err, _ := s.ended.Load().(error)
	return err
}

// lineURL returns the URL of a plain line that is not skipped: its text
// trimmed, with errNoScheme when it does not start with a scheme and ://,
// or the error of a line that could not be read.
func lineURL(l input.Line) (string, error) {
	if l.Err != nil {
		return "", l.Err
	}
	u := strings.TrimSpace(l.Text)
	return u, checkScheme(u)
}

// errNoScheme is the error of a URL taken as it is from the input (not
// made by a template) that does not start with a scheme and "://", such as
// example.com/x or localhost:8080/x. Another scheme (ftp://) is left to
// the engine, which refuses it.
var errNoScheme = errors.New("the URL is missing http:// or https:// at its start")

// checkScheme returns errNoScheme for a URL that does not start with
// scheme:// (RFC 3986: a letter, then letters, digits, +, - or .).
func checkScheme(u string) error {
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':' && strings.HasPrefix(u[i:], "://"):
			return nil
		default:
			return errNoScheme
		}
	}
	return errNoScheme
}

// request turns rec into a request, its templates filled with ctx. A
// template that fails makes a request with Err set (a bad_input record),
// unless ctx is done: the run is stopping, rec is no record and ok is false.
func (s *requestSpec) request(ctx context.Context, rec input.Record) (req fetch.Request, ok bool) {
	req = fetch.Request{Line: rec.Num, Method: s.method, Body: s.rawBody, Err: rec.Err}
	if req.Err != nil {
		return req, true
	}
	if len(s.keep) > 0 {
		req.Keep = make(map[string]any, len(s.keep))
		for _, k := range s.keep {
			req.Keep[k] = rec.Fields[k] // a missing field is kept as null
		}
	}
	fail := func(what string, err error) (fetch.Request, bool) {
		if ctx.Err() != nil {
			return fetch.Request{}, false
		}
		req.Err = fmt.Errorf("%s: %w", what, err)
		return req, true
	}
	if s.url != nil {
		u, err := s.url.ExecuteContext(ctx, rec.Fields)
		if err != nil {
			return fail("--url", err)
		}
		req.URL = u
	} else {
		u, ok := rec.Fields["url"].(string)
		if !ok {
			return fail("input", errors.New(`no "url" field; give --url a template such as 'https://host/${{ .id }}'`))
		}
		req.URL = u
		if err := checkScheme(u); err != nil {
			return fail("input", err)
		}
	}
	for _, h := range s.headers {
		v, err := h.value.ExecuteContext(ctx, rec.Fields)
		if err != nil {
			return fail("-H "+h.name, err)
		}
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Add(h.name, v)
	}
	if s.body != nil {
		b, err := s.body.ExecuteContext(ctx, rec.Fields)
		if err != nil {
			return fail("--data", err)
		}
		req.Body = []byte(b)
	}
	return req, true
}
