package fetch

import (
	"encoding/base64"
	"encoding/json"
	"hash"
	"io"
	"unicode/utf8"
	"unsafe"
)

// Bodies kept whole (--body text, --body base64) are the one place where
// the engine's memory grows with the data: each request in flight holds
// its body. They are read into a bodyBuffer, one allocation of the
// announced size or chunks assembled once, never grown by append (whose
// copies cost several times the body), and encoded once: base64 as it is
// read, text into a JSON string of exactly its encoded length, or kept as
// it is when it is JSON already (AppendJSON compacts it as it writes it).
// A body of n bytes so costs about 2n in allocations (text) or 1.4n
// (base64) while its request is in flight, 2n more when its length was
// not announced; TestKeptBodyAllocations holds it under 3n.

// bodyBuffer collects bytes in one slice of the size announced, or, when
// none was, in chunks growing from 64 KiB to 1 MiB.
type bodyBuffer struct {
	hint   int // the size announced, 0 if none
	chunks [][]byte
	n      int
}

const (
	firstChunk = 64 << 10
	maxChunk   = 1 << 20
)

func (b *bodyBuffer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		last := len(b.chunks) - 1
		if last < 0 || len(b.chunks[last]) == cap(b.chunks[last]) {
			size := b.hint
			if last >= 0 || size <= 0 {
				size = firstChunk
				if last >= 0 {
					size = min(2*cap(b.chunks[last]), maxChunk)
				}
			}
			next := make([]byte, 0, size)
			if last >= 0 {
				// A chunk never ends inside a UTF-8 sequence: text is
				// encoded chunk by chunk as it would be whole.
				full := b.chunks[last]
				cut := utf8Cut(full)
				next = append(next, full[cut:]...)
				b.chunks[last] = full[:cut]
			}
			b.chunks = append(b.chunks, next)
			last++
		}
		k := min(len(p), cap(b.chunks[last])-len(b.chunks[last]))
		b.chunks[last] = append(b.chunks[last], p[:k]...)
		p = p[k:]
	}
	b.n += n
	return n, nil
}

// utf8Cut returns where to end a chunk holding b so that it does not end
// in the middle of a UTF-8 sequence: before the start of b's last rune
// if that rune is incomplete, else len(b). Decoding b[:cut] and then the
// rest gives the runes (and the invalid bytes) that decoding b whole
// with what follows would.
func utf8Cut(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if !utf8.RuneStart(b[i]) {
			continue
		}
		if !utf8.FullRune(b[i:]) {
			return i
		}
		break
	}
	return len(b)
}

// bytes returns what was written, in one slice: the one chunk, or a copy
// of the chunks.
func (b *bodyBuffer) bytes() []byte {
	switch len(b.chunks) {
	case 0:
		return nil
	case 1:
		return b.chunks[0]
	}
	out := make([]byte, 0, b.n)
	for _, c := range b.chunks {
		out = append(out, c...)
	}
	b.chunks = nil
	return out
}

// sizeHint is the size to allocate for a body of the given Content-Length
// (-1 when unknown): the length, when it is within the maximum.
func sizeHint(contentLength, maxBody int64) int {
	if contentLength > 0 && contentLength <= maxBody {
		return int(contentLength)
	}
	return 0
}

// keepAll reads all of r (limited to maxBody+1 bytes by the caller),
// hashing it. A body of the size announced is read straight into its
// buffer (net/http says its end with its last bytes); one longer, or of
// unknown size, through chunk(), taken only then.
func keepAll(r io.Reader, h hash.Hash, chunk func() *[copyBufSize]byte, contentLength, maxBody int64) (*bodyBuffer, int64, error) {
	b := &bodyBuffer{hint: sizeHint(contentLength, maxBody)}
	var n int64
	if b.hint > 0 {
		buf := make([]byte, 0, b.hint)
		var err error
		for len(buf) < cap(buf) && err == nil {
			var m int
			m, err = r.Read(buf[len(buf):cap(buf)])
			h.Write(buf[len(buf) : len(buf)+m])
			buf = buf[:len(buf)+m]
		}
		b.chunks, b.n, n = append(b.chunks, buf), len(buf), int64(len(buf))
		if err == io.EOF {
			return b, n, nil
		}
		if err != nil {
			return nil, n, err
		}
	}
	c := chunk()
	for {
		m, err := r.Read(c[:])
		h.Write(c[:m])
		b.Write(c[:m])
		n += int64(m)
		if err == io.EOF {
			return b, n, nil
		}
		if err != nil {
			return nil, n, err
		}
	}
}

// keepBase64 reads all of r, hashing it, and returns it as a JSON string
// of its base64, encoded as it is read.
func keepBase64(r io.Reader, h hash.Hash, chunk *[copyBufSize]byte, contentLength, maxBody int64) (json.RawMessage, int64, error) {
	b := bodyBuffer{}
	if hint := sizeHint(contentLength, maxBody); hint > 0 {
		b.hint = base64.StdEncoding.EncodedLen(hint) + 2
	}
	b.Write([]byte{'"'})
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	var n int64
	for {
		m, err := r.Read(chunk[:])
		h.Write(chunk[:m])
		enc.Write(chunk[:m])
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, n, err
		}
	}
	enc.Close()
	b.Write([]byte{'"'})
	if n > maxBody {
		return nil, n, nil // too large: the caller says so
	}
	return b.bytes(), n, nil
}

// textJSON returns a body kept as text: the body itself when it is JSON,
// else a JSON string of it, as json.Marshal(string(body)) writes it. A
// body in several chunks is put in one piece only if it may be JSON (it
// starts as a JSON value does); other text is encoded chunk by chunk.
func textJSON(b *bodyBuffer) json.RawMessage {
	if len(b.chunks) > 1 && !mayBeJSON(b.chunks[0]) {
		n := 2
		for _, c := range b.chunks {
			n += jsonStringLen(unsafeString(c))
		}
		dst := make([]byte, 0, n)
		dst = append(dst, '"')
		for _, c := range b.chunks {
			dst = appendJSONStringContent(dst, unsafeString(c))
		}
		return append(dst, '"')
	}
	body := b.bytes()
	if json.Valid(body) {
		return body
	}
	s := unsafeString(body)
	dst := make([]byte, 0, 2+jsonStringLen(s))
	return appendJSONString(dst, s)
}

// unsafeString returns b as a string without copying it; b must not be
// modified while the string is in use (bodies are not, once read).
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// mayBeJSON reports whether b starts, after white space, as a JSON value.
func mayBeJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[', '"', '-', 't', 'f', 'n', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return true
		}
		return false
	}
	return true
}

// jsonStringLen is the length of appendJSONStringContent's encoding of s.
func jsonStringLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			switch {
			case c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&':
				n++
			case c == '"', c == '\\', c == '\b', c == '\f', c == '\n', c == '\r', c == '\t':
				n += 2
			default:
				n += 6
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6
		default:
			n += size
		}
		i += size
	}
	return n
}

// appendCompactJSON appends valid JSON src to dst as json.Marshal writes a
// json.RawMessage: white space outside strings dropped, <, >, & and
// U+2028, U+2029 escaped.
func appendCompactJSON(dst, src []byte) []byte {
	inString, escaped := false, false
	start := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '<' || c == '>' || c == '&':
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			start = i + 1
		case c == 0xE2 && i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[src[i+2]&0xF])
			i += 2
			start = i + 1
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			dst = append(dst, src[start:i]...)
			start = i + 1
		}
	}
	return append(dst, src[start:]...)
}
