package fetch

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// AppendJSON gives json.Marshal's bytes, for any record.
func FuzzRecordAppendJSON(f *testing.F) {
	f.Add(1, "http://h/a?b=<c>&d", "GET", 200, "", "", 1.234, int64(12), "abc", "", "text/plain", `{"a": [1, 2]}`, false, 0, 0.5, "k", "v")
	f.Add(0, "\xff\u2028\x00\"\\\b\f\n\r\t", "", 0, "dns", "no such host", 1e-7, int64(0), "", "http://x", "", "", true, 503, 1e21, "", "")
	f.Fuzz(func(t *testing.T, line int, url, method string, status int, kind, msg string, ms float64, n int64, sha, final, ct, body string, trunc bool, rstatus int, wait float64, key, value string) {
		r := Record{Line: line, URL: url, Method: method, Status: status, Attempts: status % 5, MS: ms, Bytes: n,
			SHA256: sha, FinalURL: final, ContentType: ct, BodyFile: final, Truncated: trunc}
		if kind != "" {
			r.Error = &Error{Kind: Kind(kind), Message: msg}
		}
		if body != "" {
			r.Body = json.RawMessage(body)
		}
		if rstatus != 0 {
			r.Retries = []Attempt{{Status: rstatus, WaitMS: wait, Error: r.Error}, {Status: 1, WaitMS: ms}}
		}
		if key != "" {
			r.Input = map[string]any{key: value, "n": json.Number("12"), "x": nil}
		}
		want, werr := json.Marshal(&r)
		got, gerr := r.AppendJSON(nil)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("Marshal error %v, AppendJSON error %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON\n%s\nMarshal\n%s", got, want)
		}
	})
}

func TestAppendJSONNaN(t *testing.T) {
	r := Record{MS: math.NaN()}
	if _, err := r.AppendJSON(nil); err == nil {
		t.Fatal("NaN encoded")
	}
}

func BenchmarkRecordJSON(b *testing.B) {
	r := Record{Line: 12345, URL: "http://127.0.0.1:8080/i/12345", Method: "GET", Status: 200, Attempts: 1, MS: 1.234, Bytes: 12,
		SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ContentType: "text/plain; charset=utf-8"}
	b.Run("Marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(&r)
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = r.AppendJSON(buf[:0])
		}
	})
}
