package fetch

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// prepared is a request checked and parsed once, before it is scheduled.
type prepared struct {
	req    Request
	url    *url.URL
	rawURL string // the URL as given, trimmed: what url was parsed from
	// canonical is url.String(): the URL as net/http sends it, a record's
	// final_url when there was no redirect and it differs from the input.
	canonical string
	host      string // scheme://host:port, the per-host key
	err       error
	// whole asks for the whole body and the response's header
	// (outcome.raw, outcome.header), whatever the body policy: the
	// calls that return a Response.
	whole bool
}

func (c *Client) prepare(req Request) prepared { return c.prepareWith(req, nil) }

// A hostMemo remembers the last host key made, for a sequence of
// requests prepared one after another (most go to a host the previous one
// went to): the key is a function of the URL's scheme and host only.
type hostMemo struct{ scheme, host, key string }

// hostKey returns hostKey(u), from the memo when it is u's.
func (m *hostMemo) hostKey(u *url.URL) string {
	if m == nil {
		return hostKey(u)
	}
	if m.key == "" || m.host != u.Host || m.scheme != u.Scheme {
		m.scheme, m.host, m.key = u.Scheme, u.Host, hostKey(u)
	}
	return m.key
}

// prepareWith is prepare, with the memo of the caller's sequence of
// requests (nil for none).
func (c *Client) prepareWith(req Request, memo *hostMemo) prepared {
	p := prepared{req: req}
	if p.req.Method == "" {
		p.req.Method = http.MethodGet
	}
	if req.Err != nil {
		p.err = req.Err
		return p
	}
	raw := strings.TrimSpace(req.URL)
	if err := checkMethod(p.req.Method); err != nil {
		p.err = err
		return p
	}
	if err := checkHeader(req.Header); err != nil {
		p.err = err
		return p
	}
	if !strings.Contains(raw, "://") {
		p.err = fmt.Errorf("URL %q: missing http:// or https://", raw)
		if strings.Contains(raw, "@") { // a password, maybe, that redact.Text cannot find without "://"
			p.err = errors.New("URL: missing http:// or https://")
		}
		return p
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.err = parseError(raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		p.err = fmt.Errorf("URL %q: scheme must be http or https", req.URL)
	case u.Host == "":
		p.err = fmt.Errorf("URL %q has no host", req.URL)
	case !validPort(u.Port()):
		p.err = fmt.Errorf("URL %q: port %q is not between 1 and 65535", req.URL, u.Port())
	default:
		if err := checkHost(u); err != nil {
			p.err = err
			break
		}
		p.url, p.rawURL, p.canonical = u, raw, raw
		encoded := encodeURL(u)
		if strings.HasSuffix(u.Host, ":") {
			u.Host = strings.TrimSuffix(u.Host, ":") // "h:" is sent as "h", as NewRequest does
			p.canonical = u.String()
		} else if encoded || !roundTrips(raw) {
			p.canonical = u.String()
		}
		p.host = memo.hostKey(u)
		// The URL as it will be sent, by its canonical host: refused,
		// before it takes a slot or a host's state, unless allowed.
		if err := c.allow.check(u, p.host); err != nil {
			p.err = err
		} else if err := c.allow.checkHostHeader(u, req.Header.Get("Host")); err != nil {
			p.err = err
		}
	}
	return p
}

// hostKey returns the canonical host of an http or https URL:
// scheme://host:port, the scheme and the host in lower case (but for an
// IPv6 zone, kept as written), the port filled in from the scheme when
// absent and written without leading zeros, an IPv6 address in brackets,
// no user information. It is the key of every per-host limit, rate, pause
// and circuit, and, through hostOf, HostOf's result.
func hostKey(u *url.URL) string {
	port := u.Port()
	switch {
	case port == "":
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	case port[0] == '0' && len(port) > 1:
		n, _ := strconv.Atoi(port) // validPort checked it
		port = strconv.Itoa(n)
	}
	host := u.Hostname()
	addr, zone, hasZone := strings.Cut(host, "%")
	if hasUpper(addr) {
		addr = strings.ToLower(addr)
		host = addr
		if hasZone {
			host += "%" + zone
		}
	}
	scheme := u.Scheme // url.Parse writes it in lower case
	if strings.IndexByte(host, ':') >= 0 {
		return scheme + "://[" + host + "]:" + port
	}
	return scheme + "://" + host + ":" + port
}

// hasUpper reports whether s holds an upper-case letter, or any non-ASCII
// byte (which may be one).
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; ('A' <= c && c <= 'Z') || c >= 0x80 {
			return true
		}
	}
	return false
}

// hostOf returns the canonical host (hostKey) of the URL raw, parsed as
// Run, Do and Get parse a request's URL, or "" when raw is not an http or
// https URL with a host: the one definition of a host, for the per-host
// limits and for HostOf (the summary's and the job's host).
func hostOf(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || !validPort(u.Port()) {
		return ""
	}
	return hostKey(u)
}

// roundTrips reports, cheaply, that an http or https URL's url.String() is
// the URL itself: it holds only letters, digits and punctuation that
// net/url leaves as written (no '%', '@' or '#', whose escaping it may
// normalise). It may say false for a URL that does round-trip.
func roundTrips(raw string) bool {
	if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
		return false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/?&=+,;!$'()*[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validPort reports whether port is empty (the scheme's default) or a
// number from 1 to 65535.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// quoted matches a quoted piece of a message: what net/url quotes of the
// URL it failed on.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// parseError is the error of a URL that does not parse. net/url's message
// quotes the URL and the piece it stumbled on, which for a URL with a
// userinfo ("user:pa/ss@host") may be part of a password that no rule can
// find in a URL that does not parse: then both are left out.
func parseError(raw string, err error) error {
	var ue *url.Error
	if !strings.Contains(raw, "@") || !errors.As(err, &ue) {
		return err
	}
	return fmt.Errorf("URL: %s (the URL holds an '@': it is not shown, in case a password is part of it)", quoted.ReplaceAllString(ue.Err.Error(), `"…"`))
}
