package fetch

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"syscall"
)

// Causes set on the contexts of an input, to tell which deadline fired.
var (
	errAttemptTimeout = errors.New("attempt timeout")
	errDeadline       = errors.New("input deadline")
	errRedirectLoop   = errors.New("too many redirects")
	errTooLarge       = errors.New("body larger than the maximum")
)

// A responseError is a response that is not valid HTTP, found by the
// client itself: a status outside 100-999, a redirect whose Location
// does not parse or leads to a URL that cannot be requested, a body
// shorter than its Content-Length. Its kind is bad_response.
type responseError struct{ msg string }

func (e *responseError) Error() string { return e.msg }

// A saveError is a failure to write a body to its file (--body dir:): a
// local fault, not the server's; its kind is other.
type saveError struct{ err error }

func (e *saveError) Error() string { return "saving the body: " + e.err.Error() }
func (e *saveError) Unwrap() error { return e.err }

// An attemptTrace follows one attempt through net/http's phases
// (httptrace), so that an error is classified by where it happened as
// well as by its type: net/http reports several faults only as messages,
// and some of its typed errors (the TLS handshake and header timeouts)
// are unexported. Its fields are written by net/http's goroutines (a
// dial runs on its own), hence atomics.
type attemptTrace struct {
	// responded is set once a byte of a response arrived: an error after
	// it that is not a network error is the response's fault.
	responded atomic.Bool
	// tlsErr is the error the TLS handshake ended with, if it failed.
	tlsErr atomic.Pointer[error]
	// hooks are the trace's hooks, bound to it once. They never change:
	// net/http may still look them up through an attempt's context after
	// the attempt (its readLoop ends the request's context late).
	hooks httptrace.ClientTrace
}

func newAttemptTrace() *attemptTrace {
	t := &attemptTrace{}
	t.hooks = httptrace.ClientTrace{
		GotFirstResponseByte: func() { t.responded.Store(true) },
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err != nil {
				t.tlsErr.Store(&err)
			}
		},
	}
	return t
}

// traces holds traces for reuse: a trace is its hooks, and making them
// was four allocations an attempt. A trace goes back only once no hook
// of its attempt can be called any more (see Client.attempt).
var traces = sync.Pool{New: func() any { return newAttemptTrace() }}

// newTrace returns a trace for an attempt under ctx, and whether it may be
// reused after the attempt: not when ctx carries a trace of the caller's,
// which httptrace composes with this one's hooks, changing them.
func (c *Client) newTrace(ctx context.Context) (*attemptTrace, bool) {
	if httptrace.ContextClientTrace(ctx) != nil || !c.traceReuse {
		return newAttemptTrace(), false
	}
	t := traces.Get().(*attemptTrace)
	t.responded.Store(false)
	t.tlsErr.Store(nil)
	return t, true
}

// putTrace gives back a trace no hook will call any more.
func putTrace(t *attemptTrace) { traces.Put(t) }

// with returns ctx carrying the trace's hooks.
func (t *attemptTrace) with(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &t.hooks)
}

// tlsFailed reports whether the attempt failed in its TLS handshake, and
// whether that was the handshake's timeout: a handshake failed and no
// response arrived. The handshake's own error is not always the one
// returned: net/http replaces a plain-HTTP answer's record error by a
// message ("server gave HTTP response to HTTPS client").
func (t *attemptTrace) tlsFailed() (failed, timeout bool) {
	p := t.tlsErr.Load()
	if p == nil || t.responded.Load() {
		return false, false
	}
	var ne net.Error
	return true, errors.As(*p, &ne) && ne.Timeout()
}

// classify turns the error of an attempt into a Kind. attemptCtx is the
// attempt's context, whose cause tells the attempt timeout from the input's
// deadline, from the caller's deadline and from the run being stopped. tr
// (nil when the attempt was not traced) tells where the error happened.
//
// Errors are told apart by type (errors.Is, errors.As) and by the phase
// the trace saw, never by their text, but for one: net/http's "server
// closed idle connection" is an unexported errors.New value with no type
// or wrapper to match, so its exact text is compared (isServerClosedIdle).
// The faults net/http reports only as text (a malformed status line or
// header, conflicting Content-Lengths, headers over the size limit,
// malformed chunking) all happen after a response began to arrive and are
// not network errors: that is how they are recognised, as bad_response.
func classify(attemptCtx context.Context, err error, tr *attemptTrace) Kind {
	if cause := context.Cause(attemptCtx); cause != nil {
		switch {
		case errors.Is(cause, errAttemptTimeout):
			return KindTimeoutTotal
		case isDeadline(attemptCtx):
			return KindDeadline
		default:
			return KindCanceled
		}
	}
	if tr == nil {
		tr = &attemptTrace{}
	}
	var (
		dnsErr      *net.DNSError
		opErr       *net.OpError
		netErr      net.Error
		respErr     *responseError
		saveErr     *saveError
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		flateErr    flate.CorruptInputError
	)
	switch {
	case outOfFiles(err):
		// The process's limit, not the host's fault (see outOfFiles).
		return KindOther
	case errors.Is(err, errTooLarge):
		return KindTooLarge
	case errors.Is(err, errRedirectLoop):
		return KindRedirectLoop
	case errors.As(err, new(*forbiddenError)): // a redirect not allowed
		return KindForbiddenHost
	case errors.As(err, &respErr):
		return KindBadResponse
	case errors.As(err, &saveErr):
		return KindOther
	case errors.As(err, &dnsErr):
		return KindDNS
	}
	if failed, timeout := tr.tlsFailed(); failed {
		if timeout {
			return KindTimeoutTLS
		}
		return KindTLS
	}
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostnameErr),
		errors.As(err, &recordErr), errors.As(err, &alertErr):
		return KindTLS
	case errors.As(err, &opErr) && opErr.Op == "dial":
		if opErr.Timeout() {
			return KindTimeoutConnect
		}
		return KindConnect
	case errors.As(err, &netErr) && netErr.Timeout():
		// No deadline is set on connections: a timeout other than the
		// dial's and the handshake's is the response headers'.
		if tr.responded.Load() {
			return KindTimeoutTotal
		}
		return KindTimeoutHeaders
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &flateErr):
		return KindBadResponse
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return KindReset
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		// The connection was closed in order (no RST): before any response
		// the server hung up; during one, the response was cut short.
		if tr.responded.Load() {
			return KindBadResponse
		}
		return KindReset
	case isServerClosedIdle(err):
		return KindReset
	case tr.responded.Load():
		return KindBadResponse
	}
	return KindOther
}

// outOfFiles reports whether err is the process (EMFILE) or the system
// (ENFILE) running out of file descriptors: a socket or a file could not
// be opened. It is a local fault, kind other, whatever the phase; a
// connection that fails so says nothing of its host.
func outOfFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// outOfFilesMessage starts the message of an attempt that ran out of
// file descriptors.
const outOfFilesMessage = "the process ran out of open files (raise its limit, ulimit -n, or lower the concurrency): "

// serverClosedIdle is the text of net/http's unexported
// errServerClosedIdle: a connection taken from the pool was closed by the
// server as the request went out (net/http retries this itself for
// idempotent requests; a POST may see it).
const serverClosedIdle = "http: server closed idle connection"

// isServerClosedIdle reports whether the innermost error of err's chain is
// net/http's errServerClosedIdle, by its exact text: it is an unexported
// errors.New value.
func isServerClosedIdle(err error) bool {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error() == serverClosedIdle
		}
		err = next
	}
}

// isDeadline reports whether ctx ended because a deadline passed: the
// input's (Config.Deadline) or the caller's, whatever the cause the caller
// gave it (context.WithDeadlineCause), as opposed to a cancellation. An
// attempt's own timeout is a deadline too: check for errAttemptTimeout
// first.
func isDeadline(ctx context.Context) bool {
	return errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(context.Cause(ctx), errDeadline) ||
		errors.Is(context.Cause(ctx), context.DeadlineExceeded)
}

// contextMessage says which of the contexts of an attempt ended it, once:
// the attempt timeout, the input's deadline, the caller's deadline, or a
// cancellation (with its cause).
func (c *Client) contextMessage(ctx context.Context, tr *attemptTrace) string {
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errAttemptTimeout):
		where := "before the response"
		if tr != nil && tr.responded.Load() {
			where = "while the response was read"
		}
		return fmt.Sprintf("the attempt timeout of %v passed %s", c.cfg.AttemptTimeout, where)
	case errors.Is(cause, errDeadline):
		return fmt.Sprintf("the input's deadline of %v passed", c.cfg.Deadline)
	case errors.Is(cause, context.DeadlineExceeded):
		return "the context's deadline passed"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "the context's deadline passed: " + cause.Error()
	case cause == nil:
		return "canceled"
	}
	return "canceled: " + cause.Error()
}
