package job

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/input"
)

// v1Settings are the settings gather fetch gives today for the command
// that made testdata/v1job/old.db (see its README), keyed.
var v1Settings = []Setting{
	{Key: "input_format", Name: "--input-format", Value: "jsonl"},
	{Key: "url_template", Name: "--url", Value: "http://127.0.0.1:47311/items/${{ .id }}", URLs: true},
	{Key: "method", Name: "--method", Value: "GET"},
	{Key: "headers", Name: "--header", Value: "Authorization: Bearer s3cret-token\nX-Item: ${{ .name }}", Headers: true},
	{Key: "body", Name: "--data", Value: "", URLs: true},
	{Key: "keep", Name: "--keep", Value: "name"},
	{Key: "body_policy", Name: "--body", Value: "hash"},
	{Key: "body_head", Name: "--body-head", Value: "1024"},
	{Key: "max_body", Name: "--max-body", Value: "10485760"},
	{Key: "max_redirects", Name: "--max-redirects", Value: "10"},
}

// copyV1Job copies the job file of schema version 1 and its input to a
// new directory, and returns their paths there.
func copyV1Job(t *testing.T) (jobPath, inputPath string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"old.db", "input.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata", "v1job", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "old.db"), filepath.Join(dir, "input.jsonl")
}

// userVersion returns the job file's schema version.
func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A job file made by gather at commit 1ac067a (schema 1: settings named by
// flags, hosts as host:port, a run interrupted with 22 of 30 inputs
// stored) is read as it is, refuses a run of other settings without a
// change, and opens with today's settings: migrated to this schema (hosts
// as scheme://host:port), resumed against a real server, it ends with
// exactly one result per input.
func TestJobOfSchema1OpensMigratesAndResumes(t *testing.T) {
	path, inPath := copyV1Job(t)
	ctx := context.Background()
	original, _ := os.ReadFile(path)

	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Meta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.Progress(ctx)
	runs, _ := r.Runs(ctx)
	r.Close()
	if len(m.Settings) != len(v1Settings) || m.Settings[1].Key != "url_template" || m.Settings[1].Name != "--url" || m.Total != -1 {
		t.Errorf("meta read as %+v", m)
	}
	if p.Stored != 22 || p.Failed != 5 || len(runs) != 1 || runs[0].Status != "interrupted" {
		t.Errorf("progress %+v, runs %+v", p, runs)
	}

	// Other settings: refused by the flag's name, the file left alone.
	other := append([]Setting(nil), v1Settings...)
	other[2].Value = "POST"
	if j, err := Open(ctx, path, other, nil); !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), `--method was "GET", this run has "POST"`) {
		if j != nil {
			j.Close()
		}
		t.Fatalf("another method: %v; want ErrSettings naming --method", err)
	}
	wrongToken := append([]Setting(nil), v1Settings...)
	wrongToken[3].Value = "Authorization: Bearer other\nX-Item: ${{ .name }}"
	if _, err := Open(ctx, path, wrongToken, nil); !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), "--header Authorization") || strings.Contains(err.Error(), "Bearer") {
		t.Fatalf("another token: %v; want ErrSettings naming --header Authorization, not showing the value", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, original) {
		t.Fatal("a refused run changed the job file")
	}

	// Today's settings: accepted, and the job resumed against a real
	// server (the URL template's host is the one the job was made
	// against: the server stands in for it).
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.URL.Path)
		if r.Header.Get("Authorization") != "Bearer s3cret-token" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "{\"path\":%q}\n", r.URL.Path)
	}))
	defer srv.Close()
	j, err := Open(ctx, path, v1Settings, map[string]any{"Resumed": true})
	if err != nil {
		t.Fatalf("today's settings refused: %v", err)
	}
	f, err := os.Open(inPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := j.Input(ctx, f, InputOptions{})
	if err != nil {
		j.Close()
		t.Fatal(err)
	}
	j.Start(ctx, nil)
	client := srv.Client()
	for rec := range input.JSONLFrom(in.Reader(), in.Start) {
		if !in.Take(rec.Num, rec.End) {
			continue
		}
		if rec.Err != nil {
			t.Errorf("line %d taken again: %v", rec.Num, rec.Err)
			continue
		}
		res, err := get(client, srv.URL, rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Store(res); err != nil {
			t.Fatal(err)
		}
	}
	in.Ended()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if len(requests) != 8 {
		t.Errorf("requested %v; want the 8 inputs without a result (23 to 30)", requests)
	}

	if v := userVersion(t, path); v != SchemaVersion {
		t.Errorf("schema version %d after Open, want %d", v, SchemaVersion)
	}
	if size := pageSize(t, path); size != 4096 {
		t.Errorf("page size %d after the run, want the file's 4096 (only new job files have %d)", size, jobPageSize)
	}
	r, err = OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seen := map[int]int{}
	for res, err := range r.Results(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		seen[res.Line]++
		switch {
		case res.Line == 12:
			if res.Kind != "bad_input" || res.Host != "" {
				t.Errorf("line 12: %+v, want the bad input, no host", res)
			}
		case res.Line <= 22 && res.Host != "http://127.0.0.1:47311":
			t.Errorf("line %d: host %q, want http://127.0.0.1:47311 (migrated)", res.Line, res.Host)
		case res.Line > 22 && (!res.OK || res.Host != "http://"+strings.TrimPrefix(srv.URL, "http://")):
			t.Errorf("line %d: %+v, want a success from the server", res.Line, res)
		}
	}
	for line := 1; line <= 30; line++ {
		if seen[line] != 1 {
			t.Errorf("line %d has %d results, want 1", line, seen[line])
		}
	}
	p, _ = r.Progress(ctx)
	runs, _ = r.Runs(ctx)
	m, _ = r.Meta(ctx)
	if p != (Progress{Stored: 30, Failed: 5, Total: 30}) || len(runs) != 2 || runs[1].Status != "done" {
		t.Errorf("progress %+v, runs %+v", p, runs)
	}
	if s := m.Values["settings"]; !strings.Contains(s, `"key":"url_template"`) || strings.Contains(s, `"name":`) || strings.Contains(s, "s3cret-token") {
		t.Errorf("settings stored as %s; want them by key, the token hashed", s)
	}
}

// get fetches the record's item from the server at base, as gather fetch
// would from the job's URL template, and returns the result to store.
func get(client *http.Client, base string, rec input.Record) (Result, error) {
	url := fmt.Sprintf("%s/items/%v", base, rec.Fields["id"])
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer s3cret-token")
	req.Header.Set("X-Item", fmt.Sprint(rec.Fields["name"]))
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Result{}, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ms := float64(time.Since(start).Microseconds()) / 1000
	record, _ := json.Marshal(map[string]any{"line": rec.Num, "url": url, "method": "GET", "status": resp.StatusCode,
		"attempts": 1, "ms": ms, "bytes": len(body), "input": map[string]any{"name": rec.Fields["name"]}})
	return Result{Line: rec.Num, OK: resp.StatusCode == 200, Kind: map[bool]string{true: "", false: "http_status"}[resp.StatusCode == 200],
		Host: schemeHost(url, strings.TrimPrefix(base, "http://")), Status: resp.StatusCode, Attempts: 1, MS: ms, Bytes: int64(len(body)), Record: record}, nil
}

// The hosts a migration gives old results are those the job stores for
// new ones: the scheme from the URL, a default port made explicit.
func TestMigratedHostsAreTheHostsStoredToday(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	cases := []struct{ url, old string }{
		{"http://a.test/x", "a.test"},
		{"https://a.test/x", "a.test"},
		{"HTTPS://A.test:8443/x", "A.test:8443"},
		{"http://user:pw@[::1]:8080/", "[::1]:8080"},
		{"https://[::1]/", "[::1]"},
		{"http://b.test:/", "b.test:"},
		{"ftp://c.test/", "c.test"},
		{"not a url", ""},
	}
	ctx := context.Background()
	b, err := Build(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AddRun(ctx, Run{ID: 1, Started: time.Unix(1000, 0), Status: "done"}); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		rec, _ := json.Marshal(map[string]any{"url": c.url})
		if err := b.AddResults(ctx, Row{Result: Result{Line: i + 1, OK: true, Host: c.old, Record: rec}, Run: 1, Finished: time.Unix(1001, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	db, err := openWrite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db); err != nil { // a second time: nothing to do
		t.Fatal(err)
	}
	for i, c := range cases {
		var got string
		db.QueryRow("SELECT host FROM results WHERE line = ?", i+1).Scan(&got)
		if want := schemeHost(c.url, c.old); got != want {
			t.Errorf("%s (%q): migrated to %q, stored today as %q", c.url, c.old, got, want)
		}
	}
}
