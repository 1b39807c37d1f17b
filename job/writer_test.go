package job

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/gogather/gather/input"
)

// The writer inserts a batch in line order, and numbers its results in
// the order they came: ResultsAsStored yields them as Store was given
// them, Results by line, each as given; batches of any size (the
// statements of 64, 16, 4 and 1 rows) lose none; and a closed job leaves
// no WAL file (the writer's statements are closed with it).
func TestWriterKeepsTheOrderResultsCameIn(t *testing.T) {
	for _, n := range []int{1, 5, 63, 64, 150, 4096 + 85} {
		path := filepath.Join(t.TempDir(), "j.db")
		file := writeLines(t, n)
		ctx := context.Background()
		j, err := Open(ctx, path, testSettings, nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		in, err := j.Input(ctx, f, InputOptions{})
		if err != nil {
			t.Fatal(err)
		}
		j.Start(ctx, nil)
		var lines []int
		for l := range input.LinesFrom(in.Reader(), in.Start) {
			if in.Take(l.Num, l.End) {
				lines = append(lines, l.Num)
			}
		}
		in.Ended()
		f.Close()
		r := rand.New(rand.NewPCG(1, uint64(n)))
		r.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
		for _, l := range lines {
			if err := j.Store(flakyResult(l).result()); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		for _, suffix := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(path + suffix); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%d results: %s%s after Close: %v", n, filepath.Base(path), suffix, err)
			}
		}
		rd, err := OpenReader(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if got := readLines(t, rd, nil, true); !slices.Equal(got, lines) {
			t.Errorf("%d results: as stored, lines %v, want %v", n, head(got), head(lines))
		}
		want := 1
		for res, err := range rd.Results(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			w := flakyResult(want).result()
			if res.Line != want || res.OK != w.OK || res.Kind != w.Kind || res.Host != w.Host || res.Status != w.Status || string(res.Record) != string(w.Record) {
				t.Fatalf("%d results: read %+v (record %s), want %+v (record %s)", n, res, res.Record, w, w.Record)
			}
			want++
		}
		if want != n+1 {
			t.Errorf("%d results: read %d", n, want-1)
		}
		m, err := rd.Meta(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var cp checkpoint
		if err := json.Unmarshal([]byte(m.Values["checkpoint"]), &cp); err != nil || cp.Line != n || m.Values["seq"] != strconv.Itoa(n) {
			t.Errorf("%d results: checkpoint %s (%v), seq %s", n, m.Values["checkpoint"], err, m.Values["seq"])
		}
		rd.Close()
	}
}

// A new job file has pages of jobPageSize bytes (made by Open, or by
// Build), and keeps them; a job file with other pages keeps its own (see
// TestJobOfSchema1OpensMigratesAndResumes).
func TestNewJobFilePageSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	runLines(t, path, writeLines(t, 10), nil, 0, okResult)
	if size := pageSize(t, path); size != jobPageSize {
		t.Errorf("page size %d, want %d", size, jobPageSize)
	}
	runLines(t, path, writeLines(t, 20), nil, 0, okResult)
	if size := pageSize(t, path); size != jobPageSize {
		t.Errorf("page size %d after a resumed run, want %d", size, jobPageSize)
	}
	built := filepath.Join(t.TempDir(), "b.db")
	b, err := Build(context.Background(), built)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if size := pageSize(t, built); size != jobPageSize {
		t.Errorf("built: page size %d, want %d", size, jobPageSize)
	}
}

// pageSize returns the page size of the SQLite file at path, from its
// header.
func pageSize(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h [18]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		t.Fatal(err)
	}
	size := int(h[16])<<8 | int(h[17])
	if size == 1 {
		size = 65536
	}
	return size
}

func head(l []int) []int { return l[:min(len(l), 20)] }
