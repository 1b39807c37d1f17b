package job

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkStore stores b.N results through the writer, as a run does.
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	j, err := Open(ctx, filepath.Join(b.TempDir(), "j.db"), testSettings, nil)
	if err != nil {
		b.Fatal(err)
	}
	j.Start(ctx, nil)
	b.ReportAllocs()
	for i := range b.N {
		r := Result{Line: i + 1, OK: true, Host: "127.0.0.1:8080", Status: 200, Attempts: 1, MS: 1.234, Bytes: 12,
			Record: fmt.Appendf(nil, `{"line":%d,"url":"http://127.0.0.1:8080/i/%d","method":"GET","status":200,"attempts":1,"ms":1.234,"bytes":12,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","content_type":"text/plain; charset=utf-8"}`, i+1, i)}
		if err := j.Store(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
}
