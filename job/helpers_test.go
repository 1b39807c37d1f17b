package job

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
)

// testRecord is a made-up outcome of the work on an input line, turned
// into the Result that a run stores by result.
type testRecord struct {
	Line    int
	URL     string
	Status  int
	Kind    string // the error kind; "" for success
	Message string
}

// okResult is a success of line: 200 from http://h/LINE.
func okResult(line int) testRecord {
	return testRecord{Line: line, URL: fmt.Sprintf("http://h/%d", line), Status: 200}
}

// result returns r as stored: host and status, attempts 1 (0 with no
// URL), and a record of its fields as JSON.
func (r testRecord) result() Result {
	rec := map[string]any{"line": r.Line, "url": r.URL, "method": "GET", "status": r.Status}
	res := Result{Line: r.Line, OK: r.Kind == "", Kind: r.Kind, Status: r.Status}
	if u, err := url.Parse(r.URL); err == nil && r.URL != "" {
		res.Host, res.Attempts = u.Host, 1
		rec["attempts"] = 1
	}
	if r.Kind != "" {
		rec["error"] = map[string]string{"kind": r.Kind, "message": r.Message}
	}
	res.Record, _ = json.Marshal(rec)
	return res
}

// openReadOnly opens a job file for reading as OpenReader does, and
// returns its database, for tests that look at the tables.
func openReadOnly(ctx context.Context, path string, opts ...ReadOption) (*sql.DB, error) {
	r, err := OpenReader(ctx, path, opts...)
	if err != nil {
		return nil, err
	}
	return r.db, nil
}
