package fetch

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"unicode/utf8"

	"github.com/gogather/gather/internal/redact"
	"golang.org/x/net/html/charset"
)

// A Response is a whole HTTP response: its status, header and body, read
// and closed. Get, Post and Fetch return it only for a 2xx final status;
// DoResponse for any.
type Response struct {
	// Status is the final HTTP status code (200 to 299 from Get, Post
	// and Fetch).
	Status int
	// Header is the final response's header.
	Header http.Header
	// URL is the URL requested last: after redirects, or the URL given
	// as it was sent (percent-encoded as a browser does). After a
	// redirect the password of its userinfo, if any, is masked.
	URL string
	// Body is the whole body, decoded from its Content-Encoding (gzip),
	// at most Config.MaxBody bytes.
	Body []byte
	// Attempts is how many times the request was sent, retries included.
	Attempts int
}

// Text returns the body as a string, decoded to UTF-8 from the charset
// it is in:
//
//   - the charset its Content-Type names (ISO-8859-1, windows-1252,
//     Shift_JIS, any WHATWG encoding label); UTF-8 (or an unknown label)
//     is returned as it came;
//   - with no charset, a body that is valid UTF-8 as it came;
//   - else the encoding an XML declaration names (<?xml version="1.0"
//     encoding="ISO-8859-1"?>, as many feeds do without saying so in
//     the header), or for HTML the one its <meta> names (windows-1252 when
//     none, as browsers do);
//   - else the body as it came.
func (r *Response) Text() string {
	return decodeText(r.Body, r.Header.Get("Content-Type"))
}

// decodeText decodes body, served with contentType, as Text says.
func decodeText(body []byte, contentType string) string {
	mt, params, _ := mime.ParseMediaType(contentType)
	if label := params["charset"]; label != "" {
		if enc, name := charset.Lookup(label); enc != nil && name != "utf-8" {
			if s, err := enc.NewDecoder().Bytes(body); err == nil {
				return string(s)
			}
		}
		return string(body)
	}
	if utf8.Valid(body) {
		return string(body)
	}
	if label := xmlEncoding(body); label != "" {
		if enc, _ := charset.Lookup(label); enc != nil {
			if s, err := enc.NewDecoder().Bytes(body); err == nil {
				return string(s)
			}
		}
	}
	if mt == "text/html" || mt == "application/xhtml+xml" {
		if enc, _, _ := charset.DetermineEncoding(body, contentType); enc != nil {
			if s, err := enc.NewDecoder().Bytes(body); err == nil {
				return string(s)
			}
		}
	}
	return string(body)
}

// xmlDecl matches the encoding of an XML declaration at the start of a
// body.
var xmlDecl = regexp.MustCompile(`^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// xmlEncoding returns the encoding label an XML declaration at the start
// of body names, or "".
func xmlEncoding(body []byte) string {
	m := xmlDecl.FindSubmatch(body[:min(len(body), 256)])
	if m == nil {
		return ""
	}
	return string(m[1])
}

// JSON decodes the body, as encoding/json does, into v. The error of a
// body that is not the JSON wanted names the URL.
func (r *Response) JSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("the body of %s: %w", redact.URL(r.URL), err)
	}
	return nil
}

// A StatusError is the error of Get, Post, Fetch and GetJSON when the
// final status (after retries and redirects) is not 2xx: a 4xx or 5xx,
// or a 3xx when redirects are not followed. It unwraps to an *Error of
// kind KindHTTPStatus, so that errors.As with an *Error sees every
// failure's kind.
type StatusError struct {
	// Status is the final HTTP status code.
	Status int
	// Method is the request's method.
	Method string
	// URL is the URL requested last (see Response.URL).
	URL string
	// Header is the response's header.
	Header http.Header
	// Body is the start of the body, up to its first 512 bytes.
	Body []byte
}

// statusErrorBody is how much of a body a StatusError keeps.
const statusErrorBody = 512

// Error returns the method, the URL (its password masked) and the
// status: "GET https://example.com/x: 404 Not Found".
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, redact.URL(e.URL), e.Status, http.StatusText(e.Status))
}

// Unwrap returns the *Error of kind KindHTTPStatus the status is.
func (e *StatusError) Unwrap() error {
	return &Error{Kind: KindHTTPStatus, Message: fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))}
}

// Get fetches url with GET and returns the whole response, or an error:
// a *StatusError when the final status is not 2xx, else an *Error whose
// Kind says what failed (errors.As finds both). See "One call, one
// response" in the package documentation for what is retried, the limits
// and the body bound.
func (c *Client) Get(ctx context.Context, url string) (*Response, error) {
	return c.Fetch(ctx, Request{Method: http.MethodGet, URL: url})
}

// Post sends body to url with POST, with the given Content-Type (none when
// empty), and returns the whole response, as Get does. A POST is retried
// only when nothing was sent (a connection failure) or after a 429,
// unless Config.RetryUnsafe is set.
func (c *Client) Post(ctx context.Context, url, contentType string, body []byte) (*Response, error) {
	req := Request{Method: http.MethodPost, URL: url, Body: body}
	if contentType != "" {
		req.Header = http.Header{"Content-Type": {contentType}}
	}
	return c.Fetch(ctx, req)
}

// Fetch sends req (its Method, GET when empty, URL, Header, added to
// Config.Header, and Body) and returns the whole response, as Get does.
// A request with Err set is not sent: Fetch returns a KindBadInput error
// with its message. Line and Keep are not used.
func (c *Client) Fetch(ctx context.Context, req Request) (*Response, error) {
	p := c.prepare(req)
	p.whole = true
	var out outcome
	rec := c.do(ctx, p, nil, &out)
	switch {
	case rec.Error != nil && rec.Error.Kind != KindHTTPStatus:
		return nil, rec.Error.withCause()
	case rec.Status < 200 || rec.Status > 299:
		return nil, &StatusError{Status: rec.Status, Method: rec.Method, URL: out.finalURL, Header: out.header,
			Body: out.raw[:min(len(out.raw), statusErrorBody):min(len(out.raw), statusErrorBody)]}
	}
	return &Response{Status: rec.Status, Header: out.header, URL: out.finalURL, Body: out.raw, Attempts: rec.Attempts}, nil
}

// DoResponse sends req as Do does and returns its Record and, when the
// last attempt got a response, that whole response whatever its status (a
// 404's header and body included), else nil. The Record does not keep
// the body (the Response has it): its Body, SHA256 and BodyFile are
// empty whatever the body policy. Line and Keep are copied to the Record.
// It is for a caller that judges the response itself, as a flow's step
// does.
func (c *Client) DoResponse(ctx context.Context, req Request) (Record, *Response) {
	p := c.prepare(req)
	p.whole = true
	var out outcome
	rec := c.do(ctx, p, nil, &out)
	if out.status == 0 || out.header == nil {
		return rec, nil
	}
	return rec, &Response{Status: out.status, Header: out.header, URL: out.finalURL, Body: out.raw, Attempts: rec.Attempts}
}

// GetJSON fetches url with GET, asking for JSON (Accept:
// application/json), and decodes the body into a T. Its errors are Get's,
// and the decoding's.
//
// It is a function rather than a method because methods cannot have type
// parameters.
func GetJSON[T any](ctx context.Context, c *Client, url string) (T, error) {
	var v T
	resp, err := c.Fetch(ctx, Request{Method: http.MethodGet, URL: url, Header: acceptJSON})
	if err != nil {
		return v, err
	}
	err = resp.JSON(&v)
	return v, err
}

// acceptJSON is GetJSON's header, shared by its requests and never
// modified.
var acceptJSON = http.Header{"Accept": {"application/json"}}

// withCause returns a copy of e that unwraps to context.DeadlineExceeded
// or context.Canceled when its kind is KindDeadline or KindCanceled, so
// that errors.Is finds the context error a Go caller looks for.
func (e *Error) withCause() *Error {
	err := *e
	switch e.Kind {
	case KindDeadline:
		err.cause = context.DeadlineExceeded
	case KindCanceled:
		err.cause = context.Canceled
	}
	return &err
}
