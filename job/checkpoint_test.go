package job

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/input"
)

// partialThenEOF returns the first n bytes of b, then io.EOF: what
// interruptibleReader does when the run's context ends mid-line.
type partialThenEOF struct {
	b []byte
}

func (p *partialThenEOF) Read(q []byte) (int, error) {
	if len(p.b) == 0 {
		return 0, io.EOF
	}
	n := copy(q, p.b)
	p.b = p.b[n:]
	return n, nil
}

func readCheckpoint(t *testing.T, path string) string {
	db, err := openReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v sql.NullString
	db.QueryRow("SELECT value FROM meta WHERE key='checkpoint'").Scan(&v)
	return v.String
}

// A run stopped (ctx cancelled) while skipping stored lines: the reader
// returns io.EOF mid-line, the truncated last line is a stored line, and
// becomes the checkpoint.
func TestCheckpointNeverInsideALine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	file := writeLines(t, 1000)
	all, _ := os.ReadFile(file)

	// Run 1: every line but line 1 stored (line 1 was cancelled).
	runLines(t, path, file, nil, 0, func(line int) testRecord {
		if line == 1 {
			return testRecord{Line: 1, Kind: Canceled}
		}
		return okResult(line)
	})
	t.Logf("after run 1: checkpoint %q", readCheckpoint(t, path))

	// Run 2: reader gives lines 1..511 and half of line 512, then EOF.
	lines := strings.SplitAfter(string(all), "\n")
	cut := len(strings.Join(lines[:511], "")) + 5
	ctx := context.Background()
	j, err := Open(ctx, path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err := j.Input(ctx, &partialThenEOF{b: all[:cut]}, InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j.Start(ctx, nil)
	for l := range input.LinesFrom(in.Reader(), in.Start) {
		if !in.Take(l.Num, l.End) {
			continue
		}
		if l.Num == 1 {
			j.Store(okResult(1).result())
		}
	}
	// Stopping: no Ended.
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	cp := readCheckpoint(t, path)
	t.Logf("after run 2: checkpoint %s (line 512 ends at offset %d)", cp, len(strings.Join(lines[:512], "")))

	// Run 3: the whole input.
	taken := runLines(t, path, file, nil, 0, okResult)
	t.Logf("run 3 fetched lines %v", taken)
	db, _ := openReadOnly(ctx, path)
	defer db.Close()
	var n, maxLine int
	db.QueryRow("SELECT count(*), max(line) FROM results").Scan(&n, &maxLine)
	var total string
	db.QueryRow("SELECT value FROM meta WHERE key='total'").Scan(&total)
	if maxLine != 1000 || total != "1000" {
		t.Errorf("the input has 1000 lines; the job holds %d results up to line %d, total %s", n, maxLine, total)
	}
}

// A final line without a newline is not checkpointed past: lines appended
// to the input later are numbered as a fresh run would number them.
func TestAppendAfterUnterminatedLastLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	file := filepath.Join(dir, "in.txt")
	os.WriteFile(file, []byte("http://h/1\nhttp://h/2\nhttp://h/3"), 0o644)
	runLines(t, path, file, nil, 0, okResult)
	os.WriteFile(file, []byte("http://h/1\nhttp://h/2\nhttp://h/3\nhttp://h/4\n"), 0o644)
	taken := runLines(t, path, file, nil, 0, okResult)
	if len(taken) != 1 || taken[0] != 4 {
		t.Fatalf("the appended run took lines %v; want [4]", taken)
	}
}

// A line longer than the readers' buffer is hashed as it is read: the
// bytes kept for hashing stay bounded.
func TestLongLineHashedAsRead(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	file := filepath.Join(dir, "in.txt")
	long := "http://h/" + strings.Repeat("x", 8<<20)
	os.WriteFile(file, []byte("http://h/1\n"+long+"\nhttp://h/3\n"), 0o644)
	ctx := context.Background()
	j, err := Open(ctx, path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	f, _ := os.Open(file)
	defer f.Close()
	in, err := j.Input(ctx, f, InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	most := 0
	for l := range input.LinesFrom(in.Reader(), in.Start) {
		most = max(most, cap(in.r.pending))
		in.Take(l.Num, l.End)
	}
	if most > 1<<20 {
		t.Fatalf("%d bytes kept for hashing an 8 MiB line", most)
	}
}
