package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
	for _, f := range Fields() {
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

// fullFile is a file that takes only limit bytes in all, as a full disk
// does: a write past it is cut short with ENOSPC.
type fullFile struct {
	*os.File
	limit int64
	n     int64
}

func (f *fullFile) Write(b []byte) (int, error) {
	room := f.limit - f.n
	if int64(len(b)) <= room {
		n, err := f.File.Write(b)
		f.n += int64(n)
		return n, err
	}
	n, _ := f.File.Write(b[:max(room, 0)])
	f.n += int64(n)
	return n, syscall.ENOSPC
}

// notFile is a writer that cannot be cut back (a pipe, a terminal).
type notFile struct{ w io.Writer }

func (n notFile) Write(b []byte) (int, error) { return n.w.Write(b) }

// A write that fails part-way leaves a file that ends on a whole record,
// and says how many records it holds; a writer that is not a file says
// which record was cut.
func TestFullDiskLeavesWholeRecords(t *testing.T) {
	for _, format := range []string{"jsonl", "csv"} {
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		ff := &fullFile{File: f, limit: 200_000}
		var w Writer = JSONL(ff)
		if format == "csv" {
			w, _ = CSV(ff, []string{"line", "url", "body"})
		}
		var werr error
		for i := 1; i <= 10000 && werr == nil; i++ {
			r := sample
			r.Line = i
			werr = w.Write(r)
		}
		if werr == nil {
			werr = w.Flush()
		}
		var we *WriteError
		if !errors.As(werr, &we) || !errors.Is(werr, syscall.ENOSPC) || we.CutLine != 0 || we.Records == 0 {
			t.Fatalf("%s: error %v", format, werr)
		}
		if err := w.Write(sample); err != werr {
			t.Errorf("%s: a write after the failure: %v", format, err)
		}
		f.Close()
		b, _ := os.ReadFile(f.Name())
		switch format {
		case "jsonl":
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if !strings.HasSuffix(string(b), "\n") || int64(len(lines)) != we.Records {
				t.Fatalf("jsonl: %d lines, the error says %d records", len(lines), we.Records)
			}
			for _, l := range lines {
				var r fetch.Record
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatalf("jsonl: a cut record %q", l)
				}
			}
			if !strings.Contains(we.Error(), fmt.Sprintf("the last of input line %d", we.LastLine)) {
				t.Errorf("%v", we)
			}
		case "csv":
			rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil || int64(len(rows)) != we.Records+1 {
				t.Fatalf("csv: %d rows (%v), the error says %d records", len(rows), err, we.Records)
			}
		}
	}
	// Not a file: the error names the record cut.
	var buf bytes.Buffer
	pipe := notFile{&limitWriter{w: &buf, limit: 1000}}
	w := JSONL(pipe)
	var werr error
	for i := 1; i <= 100 && werr == nil; i++ {
		r := sample
		r.Line = i
		werr = w.Write(r)
	}
	if werr == nil {
		werr = w.Flush()
	}
	var we *WriteError
	if !errors.As(werr, &we) || we.CutLine == 0 || we.CutLine != we.LastLine+1 || !strings.Contains(werr.Error(), fmt.Sprintf("in the middle of the record of input line %d", we.CutLine)) {
		t.Fatalf("not a file: %v", werr)
	}
}

type limitWriter struct {
	w     io.Writer
	limit int
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if len(b) > l.limit {
		n, _ := l.w.Write(b[:l.limit])
		l.limit = 0
		return n, syscall.ENOSPC
	}
	l.limit -= len(b)
	return l.w.Write(b)
}

// A CSV output without records is its header row.
func TestCSVWithoutRecordsIsItsHeader(t *testing.T) {
	var buf bytes.Buffer
	w, _ := CSV(&buf, []string{"line", "status"})
	if err := w.Flush(); err != nil || buf.String() != "line,status\n" {
		t.Fatalf("%q, %v", buf.String(), err)
	}
}
