package fetch

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"golang.org/x/net/idna"

	"github.com/gogather/gather/internal/redact"
)

// Config.AllowHosts (see "Allowed hosts" in the package documentation) is
// enforced here: parseAllowHosts checks and canonicalises its entries,
// allowList.check refuses a prepared request to another host (prepare),
// and allowList.checkRedirect a redirect to one (the client's
// CheckRedirect), before anything is dialled. A refusal is a
// *forbiddenError, of kind forbidden_host: never retried, never counted
// against a host's circuit (a request refused by prepare takes no host
// state at all).

// An allowList is the set of the canonical keys (allowKey) of the hosts
// requests may go to; nil allows every host.
type allowList map[string]struct{}

// A forbiddenError is a request or a redirect to a host outside
// Config.AllowHosts. Its kind is forbidden_host.
type forbiddenError struct{ msg string }

func (e *forbiddenError) Error() string { return e.msg }

// inputKind is the kind of the error of a request refused before it was
// scheduled (prepared.err): forbidden_host for a host not allowed, else
// bad_input.
func inputKind(err error) Kind {
	if _, ok := errors.AsType[*forbiddenError](err); ok {
		return KindForbiddenHost
	}
	return KindBadInput
}

// parseAllowHosts checks the entries of Config.AllowHosts and returns
// their set, nil when there are none. An entry is scheme://host[:port]:
// the scheme http or https, a host as a request's URL may have one (a
// name, an IPv4 address, an IPv6 address in brackets), a port from 1 to
// 65535 or none (the scheme's), and nothing else but an optional "/": no
// user information, path, query or fragment. The error names the entry
// (its password, if it has one, masked).
func parseAllowHosts(entries []string) (allowList, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	allow := make(allowList, len(entries))
	for _, entry := range entries {
		key, err := allowEntry(entry)
		if err != nil {
			if strings.Contains(entry, "@") {
				// A URL that does not parse may hide a password redact cannot find.
				if _, perr := url.Parse(strings.TrimSpace(entry)); perr != nil {
					return nil, fmt.Errorf("allowed upstream (not shown: it holds an '@'): %v", err)
				}
			}
			return nil, fmt.Errorf("allowed upstream %q: %v", redact.URL(entry), err)
		}
		allow[key] = struct{}{}
	}
	return allow, nil
}

// allowEntry checks one entry of Config.AllowHosts and returns its key.
func allowEntry(entry string) (string, error) {
	raw := strings.TrimSpace(entry)
	if raw == "" {
		return "", errors.New("empty entry")
	}
	if !strings.Contains(raw, "://") {
		return "", errors.New("want scheme://host[:port], with the scheme http or https")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the entry is named by the caller
		}
		return "", fmt.Errorf("does not parse: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("the scheme must be http or https")
	case u.User != nil:
		return "", errors.New("must not hold a user name or password")
	case u.Opaque != "" || u.Host == "":
		return "", errors.New("has no host")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "", strings.Contains(raw, "#"):
		return "", errors.New("must be scheme://host[:port] only, without a path, query or fragment")
	case strings.HasSuffix(u.Host, ":"):
		return "", errors.New("has an empty port")
	case !validPort(u.Port()):
		return "", fmt.Errorf("port %q is not between 1 and 65535", u.Port())
	}
	if err := checkHost(u); err != nil {
		return "", err
	}
	key, ok := allowKey(u, hostKey(u))
	if !ok {
		return "", fmt.Errorf("host %q is not a valid international domain name", u.Hostname())
	}
	return key, nil
}

// allowKey returns the key a URL's host is looked up by in an allowList,
// given its per-host key (hostKey(u)): that key, scheme://host:port in
// lower case with the scheme's port filled in, but for two hosts whose
// key is not yet the address net/http dials: a name that is not all
// ASCII, in its IDNA (punycode) form, as net/http dials it, and an IPv6
// address in its canonical form (RFC 5952: "[0:0::1]" is "[::1]"). ok is
// false for a name that has no IDNA form (net/http could not dial it).
// It allocates only for those two.
func allowKey(u *url.URL, key string) (_ string, ok bool) {
	host := u.Hostname()
	if strings.IndexByte(host, ':') >= 0 { // an IPv6 address (checkHost checked it)
		addr, err := netip.ParseAddr(host)
		if err != nil {
			return "", false
		}
		return u.Scheme + "://[" + addr.String() + "]" + key[strings.LastIndexByte(key, ':'):], true
	}
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			ascii, err := idna.Lookup.ToASCII(host)
			if err != nil || ascii == "" {
				return "", false
			}
			return u.Scheme + "://" + strings.ToLower(ascii) + key[strings.LastIndexByte(key, ':'):], true
		}
	}
	return key, true
}

// check returns nil when the prepared URL u, of per-host key key, may be
// requested, else a forbiddenError naming its host.
func (a allowList) check(u *url.URL, key string) error {
	if a == nil {
		return nil
	}
	if k, ok := allowKey(u, key); ok {
		if _, ok := a[k]; ok {
			return nil
		}
	}
	return &forbiddenError{fmt.Sprintf("host %s is not among the allowed upstreams", key)}
}

// checkHostHeader returns nil when a request to u whose Host header
// (which net/http sends in place of the URL's host: a virtual host of
// the same server, or another tenant of a shared front) is host may be
// sent: no Host header, or one naming an allowed host on u's scheme.
func (a allowList) checkHostHeader(u *url.URL, host string) error {
	if a == nil || host == "" {
		return nil
	}
	hu := *u
	hu.Host = host
	if strings.ContainsAny(host, "/@?#") || checkHost(&hu) != nil {
		return &forbiddenError{"the Host header is not a host name: it would name another host than the URL's"}
	}
	key := hostKey(&hu)
	if a.check(&hu, key) == nil {
		return nil
	}
	return &forbiddenError{fmt.Sprintf("the Host header names %s, which is not among the allowed upstreams", key)}
}

// checkRedirect returns nil when the redirect to u (checked as a request's
// URL is: scheme, port and host) may be followed, else a forbiddenError.
func (a allowList) checkRedirect(u *url.URL) error {
	if a == nil {
		return nil
	}
	key := hostKey(u)
	if a.check(u, key) == nil {
		return nil
	}
	return &forbiddenError{fmt.Sprintf("redirect to %s is not among the allowed upstreams", key)}
}
