package template

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/redact"
)

// RequestSpec says how an input record becomes an HTTP request: the
// record-to-request step that gather fetch, flow HTTP steps and gateway
// routes share. The URL, header values and body are templates over the
// record's fields.
type RequestSpec struct {
	Method string // the HTTP method; default GET
	// URL is the URL template; "" takes the record's "url" field as it
	// is, which must then start with a scheme and "://".
	URL string
	// Headers are "Name: value" lines whose values are templates, sent
	// with every request. A name whose every value is constant is parsed
	// once and shared by every request (Requests.Header lists them); a
	// name with any varying value is filled per record, with all its
	// values.
	Headers []string
	// Body is the body template; nil for no body.
	Body []byte
	// Keep names the record's fields copied into each request's Keep
	// (a missing field is kept as null), so that results can be joined
	// back to their inputs.
	Keep []string
	// Labels name the parts in error messages, as the user gave them
	// (gather fetch: "--url", "-H", "--data"); empty ones default to
	// "url", "header" and "body".
	Labels Labels
}

// Labels name a RequestSpec's parts in error messages.
type Labels struct {
	URL, Header, Body string
}

func (l Labels) orDefaults() Labels {
	if l.URL == "" {
		l.URL = "url"
	}
	if l.Header == "" {
		l.Header = "header"
	}
	if l.Body == "" {
		l.Body = "body"
	}
	return l
}

// Requests turns input records into fetch requests by a RequestSpec,
// parsed once. It is safe for concurrent use.
type Requests struct {
	method  string
	url     *Template // nil: the record's url field as is
	headers []headerTemplate
	header  http.Header // the constant headers
	body    *Template   // nil: body is constant
	rawBody []byte      // the body when constant (or nil)
	keep    []string
	labels  Labels
}

type headerTemplate struct {
	name  string
	value *Template
}

// NewRequests parses the templates of spec. Its error names the part
// (by spec.Labels) and, for a template, where in it the problem is.
func NewRequests(spec RequestSpec) (*Requests, error) {
	r := &Requests{method: spec.Method, keep: spec.Keep, labels: spec.Labels.orDefaults(), header: http.Header{}}
	if r.method == "" {
		r.method = http.MethodGet
	}
	if spec.URL != "" {
		t, err := Parse(spec.URL)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.labels.URL, err)
		}
		r.url = t
	}
	var parsed []headerTemplate
	varying := map[string]bool{} // names with a value that varies per record
	for _, h := range spec.Headers {
		name, value, ok := strings.Cut(h, ":")
		name = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
		if !ok || name == "" {
			return nil, fmt.Errorf("%s %q: want \"Name: value\"", r.labels.Header, h)
		}
		t, err := Parse(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", r.labels.Header, h, err)
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
			r.headers = append(r.headers, h)
		} else {
			v, _ := h.value.Execute(nil) // a constant template cannot fail
			r.header.Add(h.name, v)
		}
	}
	if spec.Body != nil {
		t, err := Parse(string(spec.Body))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.labels.Body, err)
		}
		if t.IsConstant() {
			v, _ := t.Execute(nil) // a constant template cannot fail
			r.rawBody = []byte(v)
		} else {
			r.body = t
		}
	}
	return r, nil
}

// Header returns the headers whose values are constant, which every
// request carries; the caller may change the copy returned.
func (r *Requests) Header() http.Header { return r.header.Clone() }

// Plain reports whether the requests need nothing of a record but its URL:
// no template and nothing kept, so that a plain list of URLs can be turned
// into requests by PlainRequest, without a record.
func (r *Requests) Plain() bool {
	return r.url == nil && len(r.headers) == 0 && r.body == nil && len(r.keep) == 0
}

// PlainRequest returns the request of a plain input line whose text is
// url (white space around it is trimmed), for Requests that are Plain: a
// URL that does not start with a scheme and "://" is a bad input
// (ErrNoScheme).
func (r *Requests) PlainRequest(line int, url string) fetch.Request {
	req := fetch.Request{Line: line, Method: r.method, Body: r.rawBody, Header: r.constHeader()}
	req.URL = strings.TrimSpace(url)
	req.Err = CheckScheme(req.URL)
	return req
}

// constHeader returns the constant headers every request shares (nil for
// none). The engine reads a request's header, never changes it.
func (r *Requests) constHeader() http.Header {
	if len(r.header) == 0 {
		return nil
	}
	return r.header
}

// Invalid returns the request of an input record that could not be read:
// a bad_input record with err, for the engine.
func (r *Requests) Invalid(line int, err error) fetch.Request {
	return fetch.Request{Line: line, Method: r.method, Body: r.rawBody, Err: err}
}

// Request turns the record of line line, with fields, into a request, its
// templates filled under ctx (and the template Limits). A template that
// fails makes a request with Err set (a bad_input record for the engine),
// unless ctx is done: the run is stopping, the record is no request and ok
// is false.
func (r *Requests) Request(ctx context.Context, line int, fields map[string]any) (req fetch.Request, ok bool) {
	req = fetch.Request{Line: line, Method: r.method, Body: r.rawBody, Header: r.constHeader()}
	if len(r.keep) > 0 {
		req.Keep = make(map[string]any, len(r.keep))
		for _, k := range r.keep {
			req.Keep[k] = fields[k] // a missing field is kept as null
		}
	}
	fail := func(what string, err error) (fetch.Request, bool) {
		if ctx.Err() != nil {
			return fetch.Request{}, false
		}
		req.Err = fmt.Errorf("%s: %w", what, err)
		return req, true
	}
	if r.url != nil {
		u, err := r.url.ExecuteContext(ctx, fields)
		if err != nil {
			return fail(r.labels.URL, err)
		}
		req.URL = u
	} else {
		u, ok := fields["url"].(string)
		if !ok {
			return fail("input", fmt.Errorf(`no "url" field; give %s a template such as 'https://host/${{ .id }}'`, r.labels.URL))
		}
		req.URL = u
		if err := CheckScheme(u); err != nil {
			return fail("input", err)
		}
	}
	if len(r.headers) > 0 {
		req.Header = r.header.Clone() // the shared constant headers are never changed
		if req.Header == nil {
			req.Header = http.Header{}
		}
	}
	for _, h := range r.headers {
		v, err := h.value.ExecuteContext(ctx, fields)
		if err != nil {
			return fail(r.labels.Header+" "+h.name, hideValues(h.name, err))
		}
		req.Header.Add(h.name, v)
	}
	if r.body != nil {
		b, err := r.body.ExecuteContext(ctx, fields)
		if err != nil {
			return fail(r.labels.Body, err)
		}
		req.Body = []byte(b)
	}
	return req, true
}

// hideValues returns the error of filling the header name's template,
// without what it quotes of the values (gojq's messages do: "cannot be
// applied to \"TOKEN\"") when the header is sensitive
// (redact.SensitiveHeader): where in the template it failed, not why.
func hideValues(name string, err error) error {
	if !redact.SensitiveHeader(name) {
		return err
	}
	var te *Error
	if errors.As(err, &te) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrTimeLimit) {
			return err
		}
		return &Error{Column: te.Column, Expr: te.Expr, Msg: "failed; the message is not shown, as it may quote the value of a secret header", Err: errHidden}
	}
	return errHidden
}

// errHidden stands for an error whose message may quote a secret.
var errHidden = errors.New("failed (the message may quote a secret: not shown)")

// ErrNoScheme is the error of a URL taken as it is from the input (not
// made by a template) that does not start with a scheme and "://", such as
// example.com/x or localhost:8080/x. Another scheme (ftp://) is left to
// the engine, which refuses it.
var ErrNoScheme = errors.New("the URL is missing http:// or https:// at its start")

// CheckScheme returns ErrNoScheme for a URL that does not start with
// scheme:// (RFC 3986: a letter, then letters, digits, +, - or .).
func CheckScheme(u string) error {
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':' && strings.HasPrefix(u[i:], "://"):
			return nil
		default:
			return ErrNoScheme
		}
	}
	return ErrNoScheme
}
