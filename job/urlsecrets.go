package job

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/gogather/gather/internal/redact"
)

// eachUserinfo calls f with the userinfo of every "scheme://userinfo@"
// in s, found as redact.Text finds them, and returns s with each replaced
// by what f returns.
func eachUserinfo(s string, f func(userinfo string) string) string {
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
			b.WriteString(f(authority[:at]))
			b.WriteString(authority[at:end])
		} else {
			b.WriteString(authority)
		}
		rest = rest[end:]
	}
}

// maskURLs returns s with the secret of each URL userinfo in it (the
// password of "user:password@", the whole of "token@", as redact masks
// them) replaced by its HMAC-SHA256 under key. A secret hashed already is
// kept, so that stored settings mask to themselves and the clear values
// of an earlier release mask to what the same values of a run mask to.
func maskURLs(s, key string) string {
	return eachUserinfo(s, func(ui string) string {
		user, secret := "", ui
		if !strings.HasPrefix(ui, hashedPrefix) {
			if c := strings.IndexByte(ui, ':'); c >= 0 {
				user, secret = ui[:c+1], ui[c+1:]
			}
		}
		if strings.HasPrefix(secret, hashedPrefix) {
			return ui
		}
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(secret))
		return user + hashedPrefix + hex.EncodeToString(m.Sum(nil))
	})
}

// showURLs returns s (masked by maskURLs) as it may be shown: each
// secret, hashed or not, replaced by redact.Mask.
func showURLs(s string) string {
	return redact.Text(eachUserinfo(s, func(ui string) string {
		if strings.HasPrefix(ui, hashedPrefix) {
			return redact.Mask
		}
		if c := strings.IndexByte(ui, ':'); c >= 0 {
			return ui[:c+1] + redact.Mask
		}
		return redact.Mask
	}))
}
