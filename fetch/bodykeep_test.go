package fetch

import (
	"bytes"
	"encoding/json"
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
