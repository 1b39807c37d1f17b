package job

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/gogather/gather/internal/redact"
)

// maskURLs returns s with the secret of each URL userinfo in it (the
// password of "user:password@", the whole of "token@", as redact masks
// them) replaced by its HMAC-SHA256 under key. A secret hashed already is
// kept, so that stored settings mask to themselves and the clear values
// of an earlier release mask to what the same values of a run mask to.
func maskURLs(s, key string) string {
	return redact.EachUserinfo(s, func(ui string) string {
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
	return redact.Text(redact.EachUserinfo(s, func(ui string) string {
		if strings.HasPrefix(ui, hashedPrefix) {
			return redact.Mask
		}
		if c := strings.IndexByte(ui, ':'); c >= 0 {
			return ui[:c+1] + redact.Mask
		}
		return redact.Mask
	}))
}
