package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// Kept input numbers are written as the input wrote them whatever the CSV
// comes from: streamed, -o written from the job, gather export. The three
// are the same bytes.
func TestCSVKeptNumbersSameStreamedFromJobAndExport(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	file := writeTestFile(t, dir, "in.jsonl",
		`{"id": 12345678901234567890, "price": 1.50, "tags": {"w": 2.50, "big": 1e400}, "p": "x"}`+"\n"+
			`{"id": 2, "price": 0.10, "tags": null, "p": "y"}`+"\n")
	fields := "line,url,status,input.id,input.price,input.tags"
	args := []string{"fetch", "-q", file, "--url", srv.URL() + "/${{ .p }}", "--keep", "id,price,tags", "--format", "csv", "--fields", fields}
	streamed, res := runInRaw("", append(args, "--ordered")...)
	if res.code != exitOK {
		t.Fatalf("streamed: exit %d: %s", res.code, res.stderr)
	}
	want := "line,url,status,input.id,input.price,input.tags\n" +
		"1," + srv.URL() + "/x,200,12345678901234567890,1.50,\"{\"\"big\"\":1e400,\"\"w\"\":2.50}\"\n" +
		"2," + srv.URL() + "/y,200,2,0.10,\n"
	if string(streamed) != want {
		t.Fatalf("streamed:\n%s\nwant:\n%s", streamed, want)
	}
	jobFile := filepath.Join(dir, "j.db")
	out := filepath.Join(dir, "out.csv")
	if res := runIn(t, "", append(args, "--job", jobFile, "-o", out)...); res.code != exitOK {
		t.Fatalf("job: exit %d: %s", res.code, res.stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != string(streamed) {
		t.Errorf("-o from the job:\n%s\nstreamed:\n%s", b, streamed)
	}
	exported, res := runInRaw("", "export", jobFile, "--format", "csv", "--fields", fields)
	if res.code != exitOK || string(exported) != string(streamed) {
		t.Errorf("export: exit %d %s\n%s\nstreamed:\n%s", res.code, res.stderr, exported, streamed)
	}
}
