package fetch

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// Text kept in chunks (no Content-Length) is encoded as it would be
// whole: chunk boundaries never split a UTF-8 sequence, invalid bytes
// included; JSON bodies are kept as they are.
func TestTextJSONInChunks(t *testing.T) {
	pieces := []string{"a", "é", "€", "😀", "\xe2\x82", "\xf0\x9f", "\xff", "<", "&", "\u2028", "\n", "\"", "\\", "\x01"}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		var whole []byte
		for len(whole) < 300<<10 {
			whole = append(whole, pieces[rng.IntN(len(pieces))]...)
		}
		if round%2 == 0 {
			whole = append([]byte("x"), whole...) // not JSON-like: encoded chunk by chunk
		}
		var b bodyBuffer
		for rest := whole; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(40000))
			b.Write(rest[:n])
			rest = rest[n:]
		}
		if len(b.chunks) < 2 {
			t.Fatalf("%d chunks", len(b.chunks))
		}
		want, _ := json.Marshal(string(whole))
		if got := textJSON(&b); !bytes.Equal(got, want) {
			t.Fatalf("round %d: the chunked encoding differs from json.Marshal", round)
		}
	}
	js := []byte(`{"a": [` + string(bytes.Repeat([]byte(`"x<y", `), 40000)) + `1]}`)
	var b bodyBuffer
	for i := 0; i < len(js); i += 1000 {
		b.Write(js[i:min(i+1000, len(js))])
	}
	if got := textJSON(&b); !bytes.Equal(got, js) {
		t.Fatal("a JSON body in chunks is not kept as it is")
	}
}

// pieces is a reader giving its pieces one Read each, the last with err.
type pieces struct {
	parts [][]byte
	err   error
}

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.parts) == 0 {
		return 0, p.err
	}
	n := copy(b, p.parts[0])
	if p.parts[0] = p.parts[0][n:]; len(p.parts[0]) == 0 {
		p.parts = p.parts[1:]
	}
	if len(p.parts) == 0 {
		return n, p.err
	}
	return n, nil
}

// keepAll keeps and hashes every byte whatever the length announced:
// the length, less (the end said with the last bytes, or after them),
// more, or none; and passes an error on.
func TestKeepAllWhateverTheLengthAnnounced(t *testing.T) {
	whole := bytes.Repeat([]byte("0123456789é"), 9000) // 108 KB: several chunks past the buffer announced
	chunk := func() *[copyBufSize]byte { return new([copyBufSize]byte) }
	for _, announced := range []int64{-1, 0, 1, 100, int64(len(whole)) - 1, int64(len(whole)), int64(len(whole)) + 1, 1 << 20} {
		for _, split := range []int{1, 7, 4096, len(whole)} {
			for _, eofWithData := range []bool{true, false} {
				var parts [][]byte
				for rest := whole; len(rest) > 0; rest = rest[min(split, len(rest)):] {
					parts = append(parts, rest[:min(split, len(rest))])
				}
				r := &pieces{parts: parts, err: io.EOF}
				if !eofWithData {
					r.parts = append(r.parts, []byte{})
				}
				h := sha256.New()
				b, n, err := keepAll(r, h, chunk, announced, 1<<30)
				if err != nil || n != int64(len(whole)) || !bytes.Equal(b.bytes(), whole) {
					t.Fatalf("announced %d, split %d: %d bytes, %v", announced, split, n, err)
				}
				if want := sha256.Sum256(whole); !bytes.Equal(h.Sum(nil), want[:]) {
					t.Fatalf("announced %d, split %d: wrong hash", announced, split)
				}
			}
		}
		cut := errors.New("cut")
		if _, n, err := keepAll(&pieces{parts: [][]byte{whole[:50]}, err: cut}, sha256.New(), chunk, announced, 1<<30); err != cut || n != 50 {
			t.Fatalf("announced %d: %d bytes, %v, want 50 and the reader's error", announced, n, err)
		}
	}
}
