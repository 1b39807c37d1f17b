// Package redact hides secrets in what gather prints: the userinfo of a
// URL wherever a URL is shown (summaries, progress, reports, error
// messages, CSV error columns), and the values of sensitive headers.
//
// URL masks one URL; Text masks every URL found inside free text, such as
// an error message that quotes the URL it failed on. Both keep the user
// name of "user:password@" and replace the password with "xxxxx", as
// net/url's Redacted does, so a reader still sees which account was used;
// a user name alone ("https://TOKEN@host", how tokens are often given) is
// masked whole. SensitiveHeader is the one rule for which header values
// are secrets.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces a password.
const Mask = "xxxxx"

// URL returns raw with the secret of its userinfo replaced by Mask: the
// password of "user:password@", or the whole of "token@", a user name
// alone being how tokens are given (https://TOKEN@host). A string that
// does not parse as a URL is masked as text (see Text), so a malformed URL
// with a secret does not escape.
func URL(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return brokenURL(raw)
	}
	if u.User == nil {
		return Text(raw)
	}
	if _, has := u.User.Password(); !has {
		u.User = url.User(Mask)
		return u.String()
	}
	return u.Redacted()
}

// Text returns s with the secret of every "scheme://user:password@" or
// "scheme://token@" it holds replaced by Mask, as URL does: what follows
// the first ":" of the userinfo, or all of it when there is no ":". Text
// without "@" is returned as it is, at no cost.
func Text(s string) string {
	return EachUserinfo(s, func(userinfo string) string {
		if colon := strings.IndexByte(userinfo, ':'); colon >= 0 {
			return userinfo[:colon+1] + Mask
		}
		return Mask
	})
}

// EachUserinfo returns s with the userinfo of every "scheme://userinfo@"
// it holds replaced by what f returns for it. A userinfo is found after
// "://", before the last "@" ahead of the next "/", "?", "#", quote, angle
// bracket or white space. Text without "@" is returned as it is, at no
// cost, and f is not called.
func EachUserinfo(s string, f func(userinfo string) string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "://")
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		start := i + len("://")
		b.WriteString(rest[:start])
		rest = rest[start:]
		end := strings.IndexFunc(rest, func(r rune) bool {
			switch r {
			case '/', '?', '#', ' ', '\t', '\n', '\r', '"', '\'', '<', '>', '`':
				return true
			}
			return false
		})
		if end < 0 {
			end = len(rest)
		}
		authority := rest[:end]
		if !strings.Contains(authority, "@") {
			// A password holding '/', '?' or '#' (invalid, but typed):
			// the userinfo runs to an '@' past them.
			if n := secretEnd(rest); n > 0 {
				end, authority = n, rest[:n]
			}
		}
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			b.WriteString(f(authority[:at]))
			b.WriteString(authority[at:])
		} else {
			b.WriteString(authority)
		}
		rest = rest[end:]
	}
}

// SensitiveHeader reports whether the value of the HTTP header name is a
// secret that gather never prints or stores in clear: Authorization,
// Proxy-Authorization, Cookie, Set-Cookie, and any header whose name holds
// (in any case) auth, token, key, secret, pass, session, cookie or
// credential: X-Api-Key, X-Auth-Token, X-Password, X-Session-Id...
func SensitiveHeader(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, w := range sensitiveWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

var sensitiveWords = []string{"auth", "token", "key", "secret", "pass", "session", "cookie", "credential"}

// Header returns value, or Mask when the header name is sensitive (see
// SensitiveHeader): the form in which a header value may be shown.
func Header(name, value string) string {
	if SensitiveHeader(name) {
		return Mask
	}
	return value
}

// secretEnd returns, for the text right after a "://", the end of an
// authority whose password holds a '/', '?' or '#' ("user:pa/ss@host"):
// the end of the host after the last '@' before white space or a quote,
// when what comes before that '@' starts with "name:" followed by
// something that is not a port (digits up to the '/', '?' or '#'); else 0.
func secretEnd(rest string) int {
	stop := strings.IndexAny(rest, " \t\n\r\"'<>`")
	if stop < 0 {
		stop = len(rest)
	}
	at := strings.LastIndexByte(rest[:stop], '@')
	if at < 0 {
		return 0
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 {
		return 0
	}
	cut := strings.IndexAny(rest[colon+1:at], "/?#")
	if cut < 0 {
		return 0 // no '/', '?' or '#' before the '@': the plain case
	}
	port := rest[colon+1 : colon+1+cut]
	if port == "" || strings.Trim(port, "0123456789") == "" {
		return 0 // host:port/path@...: an '@' in the path, no userinfo
	}
	end := strings.IndexAny(rest[at:stop], "/?#")
	if end < 0 {
		return stop
	}
	return at + end
}

// brokenURL masks a URL that does not parse: everything between its
// "://" and its last '@' (before white space) is taken as userinfo, and
// the part after the first ':' of it, or all of it, is masked. Masking
// too much of a broken URL is better than showing a password.
func brokenURL(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return Text(raw)
	}
	rest := raw[i+3:]
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return Text(raw)
	}
	user := rest[:at]
	if colon := strings.IndexByte(user, ':'); colon >= 0 {
		user = user[:colon+1] + Mask
	} else {
		user = Mask
	}
	return raw[:i+3] + user + rest[at:]
}
