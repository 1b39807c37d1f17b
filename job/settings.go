package job

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/gogather/gather/internal/redact"
	"strings"
)

// hashedPrefix starts the stored form of a sensitive header's value.
const hashedPrefix = "hmac-sha256:"

// makeKey returns a new job's key for the hashes of its secrets (meta
// "key"), in hex.
func makeKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// maskHeaders returns header lines ("Name: value", one a line) with the
// value of each sensitive header replaced by its HMAC-SHA256 under key.
// A value hashed already is kept, so a job's stored settings mask to
// themselves, and the plain values stored by earlier releases mask to what
// the same values of a run mask to.
func maskHeaders(lines, key string) string {
	if lines == "" {
		return ""
	}
	hs := strings.Split(lines, "\n")
	for i, h := range hs {
		name, value, ok := strings.Cut(h, ":")
		if !ok || !redact.SensitiveHeader(name) {
			continue
		}
		value = strings.TrimSpace(value)
		if strings.HasPrefix(value, hashedPrefix) {
			continue
		}
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(value))
		hs[i] = name + ": " + hashedPrefix + hex.EncodeToString(m.Sum(nil))
	}
	return strings.Join(hs, "\n")
}

// masked returns settings with the values of the sensitive headers of the
// settings named in headers masked (see maskHeaders), and the URL
// userinfo secrets of those named in urls (see maskURLs).
func masked(settings []Setting, headers, urls map[string]bool, key string) []Setting {
	out := make([]Setting, len(settings))
	for i, s := range settings {
		if headers[s.Name] {
			s.Value = maskHeaders(s.Value, key)
		}
		if urls[s.Name] {
			s.Value = maskURLs(s.Value, key)
		}
		out[i] = s
	}
	return out
}

// urlSettings names the settings that may hold URLs with a secret.
func urlSettings(settings []Setting) map[string]bool {
	m := map[string]bool{}
	for _, s := range settings {
		if s.URLs {
			m[s.Name] = true
		}
	}
	return m
}

// headerSettings names the settings of header lines.
func headerSettings(settings []Setting) map[string]bool {
	m := map[string]bool{}
	for _, s := range settings {
		if s.Headers {
			m[s.Name] = true
		}
	}
	return m
}

// jsonSettings returns settings as stored in a job of key: JSON, with
// the sensitive header values masked.
func jsonSettings(settings []Setting, key string) (string, []Setting) {
	m := masked(settings, headerSettings(settings), urlSettings(settings), key)
	b, _ := json.Marshal(m)
	return string(b), m
}

// differs describes how the header lines was and now (both masked)
// differ, without showing a sensitive header's value: the first header
// whose value differs or that only one of them has.
func headersDiffer(name, was, now string) string {
	values := func(lines string) (map[string]string, []string) {
		m := map[string]string{}
		var order []string
		for _, h := range strings.Split(lines, "\n") {
			if h == "" {
				continue
			}
			n, v, _ := strings.Cut(h, ":")
			k := strings.ToLower(strings.TrimSpace(n))
			if _, dup := m[k]; dup {
				m[k] += "\n" + strings.TrimSpace(v)
			} else {
				m[k] = strings.TrimSpace(v)
				order = append(order, strings.TrimSpace(n))
			}
		}
		return m, order
	}
	wm, wo := values(was)
	nm, no := values(now)
	show := func(header, v string) string {
		if redact.SensitiveHeader(header) {
			return "a value (a secret, not shown)"
		}
		return fmt.Sprintf("%q", v)
	}
	for _, h := range no {
		k := strings.ToLower(h)
		w, had := wm[k]
		switch {
		case !had:
			return fmt.Sprintf("%s %s: the job has none, this run has %s", name, h, show(h, nm[k]))
		case w != nm[k] && redact.SensitiveHeader(h):
			return fmt.Sprintf("%s %s: the value differs from the job's (a secret: neither is shown)", name, h)
		case w != nm[k]:
			return fmt.Sprintf("%s %s: was %q, this run has %q", name, h, w, nm[k])
		}
	}
	for _, h := range wo {
		if _, has := nm[strings.ToLower(h)]; !has {
			return fmt.Sprintf("%s %s: the job has %s, this run has none", name, h, show(h, wm[strings.ToLower(h)]))
		}
	}
	return fmt.Sprintf("%s: the headers are in another order", name)
}
