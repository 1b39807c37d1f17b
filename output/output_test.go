package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
)

var sample = fetch.Record{
	Line: 3, URL: "http://h/x?a=1,2", Method: "GET", Status: 500, Attempts: 2, MS: 12.5, Bytes: 7,
	Error: &fetch.Error{Kind: fetch.KindHTTPStatus, Message: `500 "Internal", Server Error`},
	Body:  json.RawMessage(`"line one\nline \"two\", with a comma"`),
}

func TestCSVRoundTripsAwkwardText(t *testing.T) {
	var buf bytes.Buffer
	w, err := CSV(&buf, []string{"line", "url", "error_kind", "error", "body", "ms"})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(sample)
	w.Write(fetch.Record{Line: 4, URL: "http://h/ok", Status: 200})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse back: %v\n%s", err, buf.String())
	}
	want := [][]string{
		{"line", "url", "error_kind", "error", "body", "ms"},
		{"3", "http://h/x?a=1,2", "http_status", `500 "Internal", Server Error`, "line one\nline \"two\", with a comma", "12.5"},
		{"4", "http://h/ok", "", "", "", "0"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Fatalf("row %d = %q, want %q", i, rows[i], want[i])
		}
	}
}

func TestCSVUnknownField(t *testing.T) {
	if _, err := CSV(&bytes.Buffer{}, []string{"url", "colour"}); err == nil || !strings.Contains(err.Error(), `"colour"`) {
		t.Fatalf("err = %v", err)
	}
	for _, f := range Fields {
		if _, err := CSV(&bytes.Buffer{}, []string{f}); err != nil {
			t.Fatalf("listed field %q refused: %v", f, err)
		}
	}
}

func TestJSONL(t *testing.T) {
	var buf bytes.Buffer
	w := JSONL(&buf)
	w.Write(sample)
	w.Write(fetch.Record{Line: 4})
	w.Flush()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	var back fetch.Record
	if err := json.Unmarshal([]byte(lines[0]), &back); err != nil || back.Error.Message != sample.Error.Message || back.Line != 3 {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func FuzzCSV(f *testing.F) {
	f.Add("http://x/\"a,b\"\n", "msg\r\nwith\"quotes")
	f.Fuzz(func(t *testing.T, url, msg string) {
		var buf bytes.Buffer
		w, _ := CSV(&buf, []string{"url", "error"})
		w.Write(fetch.Record{URL: url, Error: &fetch.Error{Kind: "x", Message: msg}})
		if err := w.Flush(); err != nil {
			return // encoding/csv refuses some invalid UTF-8 / field combinations
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("unparseable CSV for %q, %q: %v", url, msg, err)
		}
		// encoding/csv reads \r\n inside quoted fields as \n.
		norm := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
		if rows[1][0] != norm(url) || rows[1][1] != norm(msg) {
			t.Fatalf("got %q, want %q, %q", rows[1], url, msg)
		}
	})
}

func TestJSONLIsWhatMarshalGives(t *testing.T) {
	var buf bytes.Buffer
	w := JSONL(&buf)
	w.Write(sample)
	w.Flush()
	want, _ := json.Marshal(sample)
	if buf.String() != string(want)+"\n" {
		t.Fatalf("JSONL wrote %q, want %q", buf.String(), want)
	}
}
