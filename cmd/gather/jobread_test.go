package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gogather/gather/job"
)

// readJob opens the job file at path for reading, closed with the test.
func readJob(t *testing.T, path string) *job.Reader {
	t.Helper()
	r, err := job.OpenReader(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// storedResults returns every result stored in the job file at path, by
// line.
func storedResults(t *testing.T, path string) []job.Result {
	t.Helper()
	var out []job.Result
	for res, err := range readJob(t, path).Results(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res)
	}
	return out
}

// writeForeignDB writes a SQLite database of another application (one
// table, t) at path.
func writeForeignDB(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "job", "testdata", "foreign.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
