// Package redact hides secrets in what gather prints: the password of a
// URL's userinfo, wherever a URL is shown (summaries, progress, reports,
// error messages, CSV error columns).
//
// URL masks one URL; Text masks every URL found inside free text, such as
// an error message that quotes the URL it failed on. Both keep the user
// name and replace the password with "xxxxx", as net/url's Redacted does,
// so a reader still sees which account was used.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces a password.
const Mask = "xxxxx"

// URL returns raw with the password of its userinfo replaced by Mask. A
// string that does not parse as a URL is masked as text (see Text), so a
// malformed URL with a password does not escape.
func URL(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return Text(raw)
	}
	if _, has := u.User.Password(); !has {
		return raw
	}
	return u.Redacted()
}

// Text returns s with the password of every "scheme://user:password@"
// it holds replaced by Mask. It looks for "://", then for an "@" before
// the next "/", "?", "#" or white space, and masks what follows the first
// ":" between them. Text without "@" is returned as it is, at no cost.
func Text(s string) string {
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
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			userinfo := authority[:at]
			if colon := strings.IndexByte(userinfo, ':'); colon >= 0 {
				b.WriteString(userinfo[:colon+1])
				b.WriteString(Mask)
				b.WriteString(authority[at:])
				rest = rest[end:]
				continue
			}
		}
		b.WriteString(authority)
		rest = rest[end:]
	}
}
