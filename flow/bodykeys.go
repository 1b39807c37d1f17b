package flow

import (
	"encoding/json"
	"slices"
)

// decodeJSONKeys is decodeJSON for a body of which expressions read only
// keys (nil: every key): a body that is a JSON object gives an object of
// those of the keys it has, each value what decodeJSON gives for it whole
// (the last one of a key written twice, as encoding/json does); any other
// body is decoded whole. The body is checked whole all the same, as
// encoding/json checks it: one that is not valid JSON is null.
//
// Decoding a whole answer into maps when the flow reads one field of it
// was most of what a step cost beyond its request.
func decodeJSONKeys(b []byte, keys []string) any {
	if keys == nil {
		return decodeJSON(b)
	}
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return decodeJSON(b)
	}
	out := make(map[string]any, len(keys))
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i == len(b) || b[i] != '"' {
				return nil
			}
			end := validString(b, i)
			if end < 0 {
				return nil
			}
			key := b[i:end]
			if i = skipSpace(b, end); i == len(b) || b[i] != ':' {
				return nil
			}
			i = skipSpace(b, i+1)
			if end = validValue(b, i, 1); end < 0 {
				return nil
			}
			if k, ok := wanted(key, keys); ok {
				out[k] = decodeValue(b[i:end])
			}
			if i = skipSpace(b, end); i == len(b) {
				return nil
			}
			if b[i] == '}' {
				i++
				break
			}
			if b[i] != ',' {
				return nil
			}
			i = skipSpace(b, i+1)
		}
	}
	if skipSpace(b, i) != len(b) {
		return nil
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

// maxDepth is encoding/json's bound on the nesting of arrays and objects:
// a value nested deeper is not valid JSON to it.
const maxDepth = 10000

// validValue returns the index just past the JSON value that starts at
// b[i], at the nesting depth given (1 for a value in the top object), or
// -1 if there is none there that encoding/json would take.
func validValue(b []byte, i, depth int) int {
	if i == len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return validString(b, i)
	case c == '{' || c == '[':
		if depth++; depth > maxDepth {
			return -1
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1
		}
		for {
			if c == '{' {
				if i == len(b) || b[i] != '"' {
					return -1
				}
				if i = validString(b, i); i < 0 {
					return -1
				}
				if i = skipSpace(b, i); i == len(b) || b[i] != ':' {
					return -1
				}
				i = skipSpace(b, i+1)
			}
			if i = validValue(b, i, depth); i < 0 {
				return -1
			}
			if i = skipSpace(b, i); i == len(b) {
				return -1
			}
			if b[i] == closing {
				return i + 1
			}
			if b[i] != ',' {
				return -1
			}
			i = skipSpace(b, i+1)
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return validNumber(b, i)
	}
	return -1
}

// literal returns the index just past word at b[i], or -1.
func literal(b []byte, i int, word string) int {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return -1
	}
	return i + len(word)
}

// validString returns the index just past the JSON string that starts at
// b[i] (a quote), or -1 if it is not one: unterminated, with a control
// character, or a bad escape. Bytes that are not UTF-8 are taken, as
// encoding/json takes them.
func validString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < ' ':
			return -1
		case c == '\\':
			if i++; i == len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i <= 4 {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// validNumber returns the index just past the JSON number that starts at
// b[i], or -1: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte, i int) int {
	digits := func(i int) int { // past one digit or more, or -1
		if i == len(b) || b[i] < '0' || b[i] > '9' {
			return -1
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i
	}
	if b[i] == '-' {
		i++
	}
	switch {
	case i == len(b):
		return -1
	case b[i] == '0':
		i++
	default:
		if i = digits(i); i < 0 {
			return -1
		}
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}
