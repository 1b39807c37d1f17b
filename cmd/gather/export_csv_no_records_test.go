package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/output"
)

// An export of no record to CSV is the header row alone, to standard
// output as to -o, with the default columns as with --fields.
func TestExportCSVOfNoRecordIsTheHeader(t *testing.T) {
	path := writeJob(t, 6)
	out := filepath.Join(t.TempDir(), "e.csv")
	for _, c := range []struct {
		fields []string
		want   string
	}{
		{nil, strings.Join(output.DefaultCSVFields(), ",") + "\n"},
		{[]string{"--fields", "line,status"}, "line,status\n"},
	} {
		args := append([]string{"export", path, "--format", "csv", "--status", "302"}, c.fields...)
		got, res := runInRaw("", args...)
		if res.code != exitOK || string(got) != c.want {
			t.Errorf("%v: exit %d %s, %q, want %q", args, res.code, res.stderr, got, c.want)
		}
		if _, res := runInRaw("", append(args, "-o", out)...); res.code != exitOK {
			t.Fatalf("%v -o: exit %d: %s", args, res.code, res.stderr)
		}
		if b, _ := os.ReadFile(out); string(b) != c.want {
			t.Errorf("%v -o: %q, want %q", args, b, c.want)
		}
	}
}
