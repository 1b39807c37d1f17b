package flow

import (
	"encoding/json"
	"slices"
)

// decodeJSONKeys is decodeJSON for a body of which expressions read only
// keys (nil: every key): a body that is a JSON object gives an
// object of those of the keys it has, each value what decodeJSON gives
// for it whole (the last one of a key written twice, as encoding/json
// does); any other body is decoded whole. The body is checked whole all
// the same: one that is not valid JSON is null.
//
// Decoding a whole answer into maps when the flow reads one field of it
// was most of what a step cost beyond its request.
func decodeJSONKeys(b []byte, keys []string) any {
	if keys == nil {
		return decodeJSON(b)
	}
	if !json.Valid(b) {
		return nil
	}
	i := skipSpace(b, 0)
	if b[i] != '{' { // json.Valid: there is a value
		return decodeJSON(b)
	}
	out := make(map[string]any, len(keys))
	i = skipSpace(b, i+1)
	for b[i] != '}' {
		end := skipString(b, i)
		key := b[i:end]
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the colon
		end = skipValue(b, i)
		if k, ok := wanted(key, keys); ok {
			out[k] = decodeValue(b[i:end])
		}
		i = skipSpace(b, end)
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return out
}

// wanted returns the key a JSON string (quotes included) is, and whether
// it is one of keys.
func wanted(quoted []byte, keys []string) (string, bool) {
	if raw := quoted[1 : len(quoted)-1]; plainASCII(raw) {
		for _, k := range keys {
			if string(raw) == k {
				return k, true
			}
		}
		return "", false
	}
	var k string
	if json.Unmarshal(quoted, &k) != nil {
		return "", false
	}
	return k, slices.Contains(keys, k)
}

// decodeValue decodes one valid JSON value as decodeJSON does: a string
// of printable ASCII without escapes, a number, true, false and null
// directly, anything else by decodeJSON.
func decodeValue(v []byte) any {
	switch v[0] {
	case '"':
		if raw := v[1 : len(v)-1]; plainASCII(raw) {
			return string(raw)
		}
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	case '{', '[':
	default: // a number, kept as it was written (UseNumber)
		return json.Number(v)
	}
	return decodeJSON(v)
}

// plainASCII reports whether the inside of a JSON string is printable
// ASCII without a backslash: what encoding/json leaves as it is.
func plainASCII(s []byte) bool {
	for _, c := range s {
		if c < ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// skipSpace returns the index of the first byte of b from i that is not
// JSON white space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the JSON string that starts at
// b[i], in valid JSON.
func skipString(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// skipValue returns the index just past the JSON value that starts at
// b[i], in valid JSON.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
