package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
	"github.com/gogather/gather/output"
)

// --keep with --format csv: the kept input fields are columns, input.NAME,
// appended to the default columns or chosen with --fields.
func TestCSVOutputHasKeptInputColumns(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	file := writeTestFile(t, dir, "in.jsonl",
		`{"id": 12345678901234567890, "name": "Ada, \"C\"", "tags": {"a": [1, true]}, "p": "x"}`+"\n"+
			`{"id": 2, "p": "y"}`+"\n")
	base := []string{"fetch", "-q", file, "--url", srv.URL() + "/${{ .p }}", "--format", "csv", "--ordered"}
	read := func(args ...string) [][]string {
		t.Helper()
		out, res := runInRaw("", append(slices.Clone(base), args...)...)
		if res.code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, res.code, res.stderr)
		}
		rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("%v: %q: %v", args, out, err)
		}
		return rows
	}
	rows := read("--keep", "id,name,tags,missing")
	wantHeader := append(output.DefaultCSVFields(), "input.id", "input.name", "input.tags", "input.missing")
	if len(rows) != 3 || !slices.Equal(rows[0], wantHeader) {
		t.Fatalf("rows %q, want the header %q and 2 rows", rows, wantHeader)
	}
	n := len(output.DefaultCSVFields())
	if got := rows[1][n:]; !slices.Equal(got, []string{"12345678901234567890", `Ada, "C"`, `{"a":[1,true]}`, ""}) {
		t.Errorf("line 1's kept columns %q", got)
	}
	if got := rows[2][n:]; !slices.Equal(got, []string{"2", "", "", ""}) {
		t.Errorf("line 2's kept columns %q", got)
	}
	rows = read("--keep", "id", "--fields", "line,status,input.id")
	if want := [][]string{{"line", "status", "input.id"}, {"1", "200", "12345678901234567890"}, {"2", "200", "2"}}; !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("--fields line,status,input.id: %q, want %q", rows, want)
	}
	// A column of a field not kept, or a kept field's bare name: a usage
	// error that says the way.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--keep", "id", "--fields", "line,input.name"}, "--keep name"},
		{[]string{"--fields", "line,input.id"}, "--keep id"},
		{[]string{"--keep", "id", "--fields", "line,id"}, "input.id"},
	} {
		args := append(slices.Clone(base), c.args...)
		res := runIn(t, "", args...)
		if res.code != exitUsage || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line with %q", c.args, res.code, res.stderr, c.want)
		}
	}
}

// With a job, -o written from the job at the end has the same columns.
func TestCSVOutputFromJobHasKeptInputColumns(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	dir := t.TempDir()
	file := writeTestFile(t, dir, "in.csv", "id,url\n7,"+srv.URL()+"/a\n")
	out := filepath.Join(dir, "out.csv")
	res := runIn(t, "", "fetch", "-q", file, "--keep", "id", "--format", "csv", "--job", filepath.Join(dir, "j.db"), "-o", out)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	rows := readCSVFile(t, out)
	if len(rows) != 2 || rows[0][len(rows[0])-1] != "input.id" || rows[1][len(rows[1])-1] != "7" {
		t.Fatalf("-o from the job: %q", rows)
	}
	// export takes the columns with --fields.
	o2, res := runInRaw("", "export", filepath.Join(dir, "j.db"), "--format", "csv", "--fields", "line,input.id")
	if res.code != exitOK || string(o2) != "line,input.id\n2,7\n" {
		t.Fatalf("export: exit %d, %q, %s", res.code, o2, res.stderr)
	}
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %q: %v", path, b, err)
	}
	return rows
}
