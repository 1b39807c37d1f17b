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
		if headers[s.Key] {
			s.Value = maskHeaders(s.Value, key)
		}
		if urls[s.Key] {
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
			m[s.Key] = true
		}
	}
	return m
}

// headerSettings names the settings of header lines.
func headerSettings(settings []Setting) map[string]bool {
	m := map[string]bool{}
	for _, s := range settings {
		if s.Headers {
			m[s.Key] = true
		}
	}
	return m
}

// jsonSettings returns settings as stored in a job of key: JSON, keyed,
// with the sensitive header values masked.
func jsonSettings(settings []Setting, key string) (string, []Setting) {
	settings = keyed(settings)
	m := masked(settings, headerSettings(settings), urlSettings(settings), key)
	return storeSettings(m), m
}

// legacyKeys maps the names that job files of schema version 1 stored
// their settings under (gather fetch's flags) to the settings' keys.
var legacyKeys = map[string]string{
	"--input-format":  "input_format",
	"--url":           "url_template",
	"--method":        "method",
	"--header":        "headers",
	"--data":          "body",
	"--keep":          "keep",
	"--body":          "body_policy",
	"--body-head":     "body_head",
	"--max-body":      "max_body",
	"--max-redirects": "max_redirects",
}

// legacyNames maps keys back to the flags' names, for messages about a
// setting that only the job has.
var legacyNames = func() map[string]string {
	m := map[string]string{}
	for name, key := range legacyKeys {
		m[key] = name
	}
	return m
}()

// keyed returns settings with Key and Name both set: an empty key is the
// name, an empty name the key.
func keyed(settings []Setting) []Setting {
	out := make([]Setting, len(settings))
	for i, s := range settings {
		if s.Key == "" {
			s.Key = s.Name
		}
		if s.Name == "" {
			s.Name = s.Key
		}
		out[i] = s
	}
	return out
}

// storedSetting is a setting as the meta table's "settings" holds it:
// {"key", "value"}; job files of schema version 1 have {"name", "value"},
// name a flag of legacyKeys.
type storedSetting struct {
	Key   string `json:"key,omitempty"`
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
}

// storeSettings returns settings as stored: JSON of their keys and
// values.
func storeSettings(settings []Setting) string {
	st := make([]storedSetting, len(settings))
	for i, s := range settings {
		st[i] = storedSetting{Key: s.Key, Value: s.Value}
	}
	b, _ := json.Marshal(st)
	return string(b)
}

// parseSettings parses stored settings, of this release or of an
// earlier one (named by flags, mapped to keys).
func parseSettings(text string) ([]Setting, error) {
	var st []storedSetting
	if err := json.Unmarshal([]byte(text), &st); err != nil {
		return nil, fmt.Errorf("the job's settings do not parse: %w", err)
	}
	out := make([]Setting, len(st))
	for i, s := range st {
		key := s.Key
		if key == "" {
			key = s.Name
			if k, ok := legacyKeys[s.Name]; ok {
				key = k
			}
		}
		if key == "" {
			return nil, fmt.Errorf("the job's settings do not parse: setting %d has no key", i+1)
		}
		name := key
		if n, ok := legacyNames[key]; ok {
			name = n
		}
		out[i] = Setting{Key: key, Name: name, Value: s.Value}
	}
	return out, nil
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
	for i := range min(len(wo), len(no)) {
		if wo[i] != no[i] && strings.EqualFold(wo[i], no[i]) {
			return fmt.Sprintf("%s %s: the job wrote the name as %s (the same header: give it as the job has it)", name, no[i], wo[i])
		}
	}
	return fmt.Sprintf("%s: the headers are in another order", name)
}
