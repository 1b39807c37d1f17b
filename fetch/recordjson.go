package fetch

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the record's JSON to dst: the bytes json.Marshal
// gives (same fields, order, escaping and number format), without its
// reflection. Every record of a run is encoded once or twice (the output,
// the job file), and this is several times cheaper. A test fuzzes the two
// against each other.
func (r *Record) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"line":`...)
	dst = strconv.AppendInt(dst, int64(r.Line), 10)
	dst = append(dst, `,"url":`...)
	dst = appendJSONString(dst, r.URL)
	dst = append(dst, `,"method":`...)
	dst = appendJSONString(dst, r.Method)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(r.Status), 10)
	if r.Error != nil {
		dst = append(dst, `,"error":`...)
		dst = r.Error.appendJSON(dst)
	}
	dst = append(dst, `,"attempts":`...)
	dst = strconv.AppendInt(dst, int64(r.Attempts), 10)
	dst = append(dst, `,"ms":`...)
	var err error
	if dst, err = appendJSONFloat(dst, r.MS); err != nil {
		return dst, err
	}
	dst = append(dst, `,"bytes":`...)
	dst = strconv.AppendInt(dst, r.Bytes, 10)
	for _, f := range [...]struct{ name, value string }{
		{`,"sha256":`, r.SHA256}, {`,"final_url":`, r.FinalURL}, {`,"content_type":`, r.ContentType},
	} {
		if f.value != "" {
			dst = append(dst, f.name...)
			dst = appendJSONString(dst, f.value)
		}
	}
	if len(r.Body) > 0 {
		// Checked and compacted as Marshal does, straight into dst: a body
		// may be megabytes, and Marshal would copy it twice more.
		if !json.Valid(r.Body) {
			return dst, errors.New("json: the record's body is not valid JSON")
		}
		dst = append(dst, `,"body":`...)
		dst = appendCompactJSON(dst, r.Body)
	}
	if r.BodyFile != "" {
		dst = append(dst, `,"body_file":`...)
		dst = appendJSONString(dst, r.BodyFile)
	}
	if r.Truncated {
		dst = append(dst, `,"truncated":true`...)
	}
	if len(r.Retries) > 0 {
		dst = append(dst, `,"retries":[`...)
		for i, a := range r.Retries {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"status":`...)
			dst = strconv.AppendInt(dst, int64(a.Status), 10)
			if a.Error != nil {
				dst = append(dst, `,"error":`...)
				dst = a.Error.appendJSON(dst)
			}
			dst = append(dst, `,"wait_ms":`...)
			if dst, err = appendJSONFloat(dst, a.WaitMS); err != nil {
				return dst, err
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(r.Input) > 0 {
		b, err := json.Marshal(r.Input)
		if err != nil {
			return dst, err
		}
		dst = append(dst, `,"input":`...)
		dst = append(dst, b...)
	}
	return append(dst, '}'), nil
}

func (e *Error) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"kind":`...)
	dst = appendJSONString(dst, string(e.Kind))
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, e.Message)
	return append(dst, '}')
}

// appendJSONFloat formats f as encoding/json does a float64.
func appendJSONFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, &json.UnsupportedValueError{Str: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does, HTML characters escaped:
// invalid UTF-8 becomes U+FFFD, and U+2028 and U+2029 are escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendJSONStringContent(dst, s)
	return append(dst, '"')
}

// appendJSONStringContent is appendJSONString without the quotes.
func appendJSONStringContent(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}
