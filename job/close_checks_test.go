package job

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gogather/gather/input"
	"github.com/gogather/gather/internal/jobhook"
)

// A job closed cleanly keeps its final figures, the last batch included:
// Progress returns them without opening the file again, and
// OpenReader with AfterClose reads it without a whole-file check, unless
// the file changed since.
func TestClosedJobNeedsNoWholeCheck(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	file := writeLines(t, 300)
	var checks, whole int
	jobhook.Check = func(p string, w bool) {
		checks++
		if w {
			whole++
		}
	}
	t.Cleanup(func() { jobhook.Check = nil })

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
	for l := range input.LinesFrom(in.Reader(), in.Start) {
		if !in.Take(l.Num, l.End) {
			continue
		}
		r := okResult(l.Num)
		if l.Num%10 == 0 {
			r.Status, r.Kind = 0, "connect"
		}
		if err := j.Store(r.result()); err != nil {
			t.Fatal(err)
		}
	}
	in.Ended()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	checks, whole = 0, 0
	p, err := j.Progress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Progress{Stored: 300, Failed: 30, Total: 300, New: 300}); p != want {
		t.Errorf("Progress after Close = %+v, want %+v", p, want)
	}
	if checks != 0 {
		t.Errorf("Progress after Close made %d quick_checks", checks)
	}
	db, err := openReadOnly(ctx, path, AfterClose())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	db.QueryRow("SELECT count(*) FROM results").Scan(&n)
	db.Close()
	if n != 300 || checks != 0 {
		t.Errorf("openReadOnly(AfterClose) after a clean Close: %d results, %d quick_checks; want 300, none", n, checks)
	}
	// A file changed since (here only its time) is checked whole.
	later := time.Now().Add(time.Hour)
	os.Chtimes(path, later, later)
	db, err = openReadOnly(ctx, path, AfterClose())
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if whole != 1 {
		t.Errorf("openReadOnly(AfterClose) of a file changed since Close: %d whole checks, want 1", whole)
	}
}
