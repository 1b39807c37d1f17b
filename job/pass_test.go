package job

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gogather/gather/input"
)

// passLines runs a job over the lines of file, as gather fetch does over a
// plain list: lines starting with "#" are no record (Pass), the others are
// taken and stored. It returns the lines taken.
func passLines(t *testing.T, path, file string) []int {
	t.Helper()
	ctx := context.Background()
	j, err := Open(ctx, path, testSettings, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in, err := j.Input(ctx, f, InputOptions{})
	if err != nil {
		t.Fatal(err)
	}
	j.Start(ctx, nil)
	var taken []int
	for l := range input.LinesFrom(in.Reader(), in.Start) {
		if strings.HasPrefix(l.Text, "#") {
			in.Pass(l.End)
			continue
		}
		if in.Take(l.Num, l.End) {
			taken = append(taken, l.Num)
			j.Store(okResult(l.Num).result())
		}
	}
	in.Ended()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return taken
}

// Lines that are no record (a plain list's comments), more of them at the
// end of the input than the hash lags behind the bytes read: the job's
// last checkpoint pairs a line with its own offset, so a line appended
// later is taken under its own number.
func TestPassedLinesKeepCheckpointsOnLineEnds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j.db")
	file := filepath.Join(dir, "in.txt")
	var b strings.Builder
	b.WriteString("http://h/1\n")
	for b.Len() < 300<<10 {
		b.WriteString("#23456789012345\n")
	}
	n := strings.Count(b.String(), "\n")
	os.WriteFile(file, []byte(b.String()), 0o644)
	if got := passLines(t, path, file); len(got) != 1 || got[0] != 1 {
		t.Fatalf("first run took %v", got)
	}
	f, _ := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("http://h/2\n")
	f.Close()
	if got := passLines(t, path, file); len(got) != 1 || got[0] != n+1 {
		t.Fatalf("after appending line %d, the run took %v (checkpoint %s)", n+1, got, readCheckpoint(t, path))
	}
}
