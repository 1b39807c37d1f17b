package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// Causes set on the contexts of an input, to tell which deadline fired.
var (
	errAttemptTimeout = errors.New("attempt timeout")
	errDeadline       = errors.New("input deadline")
	errRedirectLoop   = errors.New("too many redirects")
	errTooLarge       = errors.New("body larger than the maximum")
)

// classify turns the error of an attempt into a Kind. attemptCtx is the
// attempt's context, whose cause tells the attempt timeout from the input's
// deadline and from the run being stopped.
func classify(attemptCtx context.Context, err error) Kind {
	if cause := context.Cause(attemptCtx); cause != nil {
		switch {
		case errors.Is(cause, errAttemptTimeout):
			return KindTimeoutTotal
		case errors.Is(cause, errDeadline):
			return KindDeadline
		default:
			return KindCanceled
		}
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var recordErr tls.RecordHeaderError
	msg := err.Error()
	switch {
	case errors.Is(err, errTooLarge):
		return KindTooLarge
	case errors.Is(err, errRedirectLoop):
		return KindRedirectLoop
	case errors.As(err, &dnsErr):
		return KindDNS
	case strings.Contains(msg, "TLS handshake timeout"):
		return KindTimeoutTLS
	case strings.Contains(msg, "timeout awaiting response headers"):
		return KindTimeoutHeaders
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostnameErr),
		errors.As(err, &recordErr), strings.Contains(msg, "tls: "):
		return KindTLS
	case errors.As(err, &opErr) && opErr.Op == "dial":
		if opErr.Timeout() {
			return KindTimeoutConnect
		}
		return KindConnect
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		strings.Contains(msg, "server closed idle connection"):
		return KindReset
	case strings.Contains(msg, "malformed HTTP"), strings.Contains(msg, "malformed MIME"),
		strings.Contains(msg, "bad Content-Length"), strings.Contains(msg, "invalid"):
		return KindBadResponse
	}
	return KindOther
}
