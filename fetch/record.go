package fetch

import (
	"encoding/json"
	"fmt"
	"slices"
)

// A Record is the outcome of one input: one per input, success or failure,
// in a stable JSON shape shared by every sink (JSONL, CSV, the job file) and
// by the cluster. Fields are only ever added, never renamed or removed.
type Record struct {
	// Line is the input's 1-based line number (or record number).
	Line int `json:"line"`
	// URL is the URL requested, as given or built from the input.
	URL string `json:"url"`
	// Method is the HTTP method.
	Method string `json:"method"`
	// Status is the final HTTP status code, 0 when no response arrived.
	Status int `json:"status"`
	// Error is absent on success.
	Error *Error `json:"error,omitempty"`
	// Attempts is how many times the request was sent (0 for bad input).
	Attempts int `json:"attempts"`
	// MS is the time from the first attempt's start to the end of the last
	// one's body, in milliseconds, retries and back-off included.
	MS float64 `json:"ms"`
	// Bytes is the size of the (decoded) body read.
	Bytes int64 `json:"bytes"`
	// SHA256 is the hex SHA-256 of the body, when bodies are hashed.
	SHA256 string `json:"sha256,omitempty"`
	// FinalURL is the URL requested last, when it differs from URL: the
	// URL after redirects, or URL as sent (percent-encoded as a browser
	// does), the password of its userinfo, if any, masked. (URL is the
	// input as given, the user's own data: the one field that keeps it.)
	FinalURL string `json:"final_url,omitempty"`
	// ContentType is the response's Content-Type header.
	ContentType string `json:"content_type,omitempty"`
	// Body is the body when the body policy keeps it: a JSON value for a
	// JSON body kept as text, else a JSON string (text or base64).
	Body json.RawMessage `json:"body,omitempty"`
	// BodyFile is where the body was saved, with the "dir" body policy.
	BodyFile string `json:"body_file,omitempty"`
	// Truncated is true when only the first bytes of the body were kept.
	Truncated bool `json:"truncated,omitempty"`
	// Retries lists the outcome of each attempt before the last, in order,
	// when there were retries.
	Retries []Attempt `json:"retries,omitempty"`
	// Input holds the input fields the request asked to keep (--keep).
	Input map[string]any `json:"input,omitempty"`

	host string // the engine's HostOf(URL), known when it parsed URL
}

// Host returns the record's host, HostOf(URL) (the engine's, without a
// second parse, for a record it made).
func (r *Record) Host() string {
	if r.host != "" {
		return r.host
	}
	return HostOf(r.URL)
}

// An Attempt summarises one attempt that was retried.
type Attempt struct {
	Status int    `json:"status"`
	Error  *Error `json:"error,omitempty"`
	// WaitMS is the back-off slept before the next attempt.
	WaitMS float64 `json:"wait_ms"`
}

// Error is a failed input's error: a short machine-readable kind and a
// human-readable message. A message never shows the password of a URL's
// userinfo (internal/redact masks it).
//
// It is also the error of Get, Post, Fetch and GetJSON (but for a status,
// a *StatusError): errors.As(err, &e) and e.Kind say what failed. There a
// KindDeadline error unwraps to context.DeadlineExceeded and a
// KindCanceled one to context.Canceled, for errors.Is.
type Error struct {
	Kind    Kind   `json:"kind"`
	Message string `json:"message"`

	cause error // for Unwrap; set only on the errors of the calls above
}

// Error returns the kind and the message: "connect: ...".
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Kind, e.Message) }

// Unwrap returns the context error behind a KindDeadline or KindCanceled
// error returned by Get, Post, Fetch or GetJSON, or nil.
func (e *Error) Unwrap() error { return e.cause }

// Timeout reports whether the error is a timeout: one of the timeouts'
// kinds, or a deadline.
func (e *Error) Timeout() bool {
	switch e.Kind {
	case KindTimeoutConnect, KindTimeoutTLS, KindTimeoutHeaders, KindTimeoutTotal, KindDeadline:
		return true
	}
	return false
}

// Kind names a class of failure. The set only grows.
type Kind string

// The kinds of failure a Record can carry.
const (
	KindBadInput       Kind = "bad_input"       // the input could not be turned into a request
	KindDNS            Kind = "dns"             // the host name did not resolve
	KindConnect        Kind = "connect"         // the connection was refused or failed
	KindTLS            Kind = "tls"             // the TLS handshake failed
	KindTimeoutConnect Kind = "timeout_connect" // connecting took longer than the connect timeout
	KindTimeoutTLS     Kind = "timeout_tls"     // the TLS handshake took longer than its timeout
	KindTimeoutHeaders Kind = "timeout_headers" // the response headers took longer than their timeout
	KindTimeoutTotal   Kind = "timeout_total"   // an attempt took longer than the attempt timeout
	KindDeadline       Kind = "deadline"        // the input's deadline (Config.Deadline) or the caller's context's passed
	KindReset          Kind = "reset"           // the connection was reset or closed mid-response
	KindTooLarge       Kind = "too_large"       // the body exceeded the maximum size
	KindBadResponse    Kind = "bad_response"    // the response was not valid HTTP
	KindRedirectLoop   Kind = "redirect_loop"   // too many redirects
	KindHTTPStatus     Kind = "http_status"     // the final status was 400 or above
	KindCanceled       Kind = "canceled"        // the run was stopped, or the caller's context cancelled, before the input finished
	KindCircuitOpen    Kind = "circuit_open"    // the host's circuit is open after repeated connection failures
	KindForbiddenHost  Kind = "forbidden_host"  // the host, or a redirect's, is not among Config.AllowHosts: nothing was sent to it
	KindOther          Kind = "other"           // anything else; the message says what
)

// Kinds returns every Kind a Record can carry, in a new slice the caller
// may change.
func Kinds() []Kind { return slices.Clone(kinds[:]) }

// kinds lists every Kind a Record can carry.
var kinds = [...]Kind{
	KindBadInput, KindDNS, KindConnect, KindTLS, KindTimeoutConnect, KindTimeoutTLS,
	KindTimeoutHeaders, KindTimeoutTotal, KindDeadline, KindReset, KindTooLarge,
	KindBadResponse, KindRedirectLoop, KindHTTPStatus, KindCanceled, KindCircuitOpen, KindForbiddenHost, KindOther,
}

// KnownKind reports whether k is one of Kinds.
func KnownKind(k Kind) bool { return slices.Contains(kinds[:], k) }

// statusClasses are the classes of the statuses 100 to 999.
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"}

// StatusClass returns a status's class, "2xx" for 200 to 299, or "none"
// for 0 (no response): the one definition the summary, the report and
// filters use.
func StatusClass(status int) string {
	switch {
	case status <= 0:
		return "none"
	case status >= 100 && status < 1000:
		return statusClasses[status/100-1]
	}
	return fmt.Sprintf("%dxx", status/100)
}
