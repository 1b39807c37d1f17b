package fetch

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"unicode"
	"unicode/utf8"

	"github.com/gogather/gather/internal/redact"
)

// What goes on the wire is checked before anything is resolved or sent:
// a request that net/http would refuse (or, worse, send as given) is a
// bad_input record with no attempt.
//
// net/http sends a URL's query as it was written: "?q=two words" would
// put a space in the request line. encodeURL percent-encodes the query
// and the path as a browser does (the WHATWG URL standard's query and
// path percent-encode sets), so the request line is always three tokens
// and a URL means what a browser would make of it.

// queryEscape reports the bytes of a query a browser percent-encodes
// (the special-query percent-encode set): controls, space, ", #, ', <, >
// and every byte above 0x7E.
func queryEscape(b byte) bool {
	return b < 0x21 || b > 0x7E || b == '"' || b == '#' || b == '\'' || b == '<' || b == '>'
}

// pathEscape reports the bytes of a path that are percent-encoded: the
// path percent-encode set (controls, space, ", #, <, >, ?, `, {, } and
// every byte above 0x7E), plus |, \ and ^, which a browser sends as they
// are but net/url does not accept unescaped in a path (it would re-escape
// the whole path, turning an encoded %2F into a /).
func pathEscape(b byte) bool {
	if b < 0x21 || b > 0x7E {
		return true
	}
	return strings.IndexByte("\"#<>?`{}|\\^", b) >= 0
}

// percentEncode returns s with the bytes esc selects written as %XX, and
// whether it changed anything. A '%' is kept as it is.
func percentEncode(s string, esc func(byte) bool) (string, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if esc(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; esc(c) {
			b.WriteByte('%')
			b.WriteByte("0123456789ABCDEF"[c>>4])
			b.WriteByte("0123456789ABCDEF"[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// encodeURL percent-encodes u's query and path as a browser would, and
// reports whether u changed.
func encodeURL(u *url.URL) bool {
	changed := false
	if q, ok := percentEncode(u.RawQuery, queryEscape); ok {
		u.RawQuery, changed = q, true
	}
	// RawPath is set only when the path as written differs from net/url's
	// own encoding of it; net/url's encoding never holds a raw byte that
	// needs escaping, so only RawPath needs the work.
	if u.RawPath != "" {
		if p, ok := percentEncode(u.RawPath, pathEscape); ok {
			if unescaped, err := url.PathUnescape(p); err == nil && unescaped == u.Path {
				u.RawPath, changed = p, true
			}
		}
	}
	return changed
}

// checkHost reports why u's host cannot be looked up or connected to, or
// nil: an IP address, or a host name of letters, digits, '-' and '_' in
// dot-separated labels of 1 to 63 bytes, not starting or ending with
// '-', at most 253 bytes, whose last label is not all digits (that would
// be an IPv4 address, and it is not a valid one). A name may also hold
// non-ASCII letters, marks and digits (net/http sends it in its IDNA,
// punycode, form; a label's length is then checked in bytes of UTF-8, not
// of punycode). Go's resolver refuses every other name without asking
// DNS; here it is refused before, as bad input, not as a dns error.
func checkHost(u *url.URL) error {
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("URL %q has no host name", u.Redacted())
	}
	if strings.HasPrefix(u.Host, "[") {
		ip, _, _ := strings.Cut(host, "%") // a zone: fe80::1%eth0
		if !isIP(ip) || !strings.Contains(ip, ":") {
			return fmt.Errorf("host %q is not an IPv6 address", host)
		}
		return nil
	}
	if isIP(host) {
		return nil
	}
	if !validHostName(host) {
		return fmt.Errorf("host %q is not a valid host name or IP address", host)
	}
	return nil
}

// isIP reports whether net.ParseIP(s) is not nil (which is how net.ParseIP
// itself decides), without the allocation of its result.
func isIP(s string) bool {
	ip, err := netip.ParseAddr(s)
	return err == nil && ip.Zone() == ""
}

// validHostName reports whether name is a host name as checkHost says.
func validHostName(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	numeric := false
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		numeric = true
		for _, c := range label {
			switch {
			case '0' <= c && c <= '9':
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '-', c == '_':
				numeric = false
			case c >= utf8.RuneSelf && c != utf8.RuneError && (unicode.IsLetter(c) || unicode.IsMark(c) || unicode.IsDigit(c)):
				numeric = false
			default:
				return false
			}
		}
	}
	return !numeric
}

// checkHeader reports a header that net/http would refuse to send (with
// an error after the request was counted as sent): a name that is not a
// token, a value with a control character other than tab (a CR or LF
// would end the header early), a Host header with a space or a control
// character. The value of a sensitive header (redact.SensitiveHeader) is
// never quoted in the error.
func checkHeader(h http.Header) error {
	for k, vs := range h {
		if !isToken(k) {
			if redact.SensitiveHeader(k) {
				// What follows the token may be a value given in the name.
				return fmt.Errorf("header name %q... is not valid (the rest hidden)", tokenPrefix(k))
			}
			return fmt.Errorf("header name %q is not valid", k)
		}
		host := http.CanonicalHeaderKey(k) == "Host"
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7F || (host && c <= ' ') {
					if redact.SensitiveHeader(k) {
						// The value is a secret: named, never shown.
						return fmt.Errorf("header %s: the value (hidden) holds a control character (CR, LF, ...)", k)
					}
					return fmt.Errorf("header %s: the value %q holds a control character (CR, LF, ...) or, in Host, a space", k, v)
				}
			}
		}
	}
	return nil
}

// tokenPrefix returns the longest prefix of s that is made of token
// characters.
func tokenPrefix(s string) string {
	for i := 0; i < len(s); i++ {
		if !isToken(s[i : i+1]) {
			return s[:i]
		}
	}
	return s
}

// checkMethod reports a method that is not an HTTP token.
func checkMethod(m string) error {
	if !isToken(m) {
		return fmt.Errorf("method %q is not valid", m)
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
