package job

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gogather/gather/fetch"
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
		r := fetch.Record{Line: i + 1, URL: fmt.Sprintf("http://127.0.0.1:8080/i/%d", i), Method: "GET", Status: 200, Attempts: 1,
			MS: 1.234, Bytes: 12, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ContentType: "text/plain; charset=utf-8"}
		if err := j.StoreRecord(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
}
