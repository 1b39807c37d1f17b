package job

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// flakyResult fails lines ending in 3 with a 503 and lines ending in 7
// with a timeout (no response); the others succeed.
func flakyResult(line int) testRecord {
	r := okResult(line)
	switch line % 10 {
	case 3:
		r.Status, r.Kind, r.Message = 503, "http_status", "503"
	case 7:
		r.Status, r.Kind, r.Message = 0, "timeout_total", "slow"
	}
	return r
}

// readLines returns the lines of the results that r's Results (or
// ResultsAsStored) yields for f.
func readLines(t *testing.T, r *Reader, f *Filter, stored bool) []int {
	t.Helper()
	results := r.Results
	if stored {
		results = r.ResultsAsStored
	}
	var lines []int
	for res, err := range results(context.Background(), f) {
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, res.Line)
	}
	return lines
}

// Results yields the stored results matching a filter, in line order,
// each with its envelope and record as stored; ResultsAsStored in the
// order they were stored.
func TestReaderResultsMatchFiltersInLineOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	runLines(t, path, writeLines(t, 100), nil, 0, flakyResult)
	ctx := context.Background()
	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	count := func(pred func(int) bool) int {
		n := 0
		for l := 1; l <= 100; l++ {
			if pred(l) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		filter string
		want   func(line int) bool
	}{
		{"", func(int) bool { return true }},
		{"ok", func(l int) bool { return l%10 != 3 && l%10 != 7 }},
		{"failed", func(l int) bool { return l%10 == 3 || l%10 == 7 }},
		{"5xx", func(l int) bool { return l%10 == 3 }},
		{"503,timeout_total", func(l int) bool { return l%10 == 3 || l%10 == 7 }},
		{"none", func(l int) bool { return l%10 == 7 }},
		{"0", func(l int) bool { return l%10 == 7 }},
		{"2xx", func(l int) bool { return l%10 != 3 && l%10 != 7 }},
		{"404", func(int) bool { return false }},
	} {
		f, err := ParseFilter(c.filter, "http_status", "timeout_total")
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		got := readLines(t, r, f, false)
		if len(got) != count(c.want) || !slices.IsSorted(got) {
			t.Errorf("filter %q: %d lines %v, want %d in line order", c.filter, len(got), got, count(c.want))
		}
		for _, l := range got {
			if !c.want(l) {
				t.Errorf("filter %q selects line %d", c.filter, l)
			}
		}
	}
	if got := readLines(t, r, nil, true); len(got) != 100 {
		t.Errorf("as stored: %d results, want 100", len(got))
	}
	for res, err := range r.Results(ctx, &Filter{Statuses: []int{503}}) {
		if err != nil {
			t.Fatal(err)
		}
		want := flakyResult(res.Line).result()
		if res.OK || res.Kind != "http_status" || res.Host != "h" || res.Status != 503 || res.Attempts != 1 || !bytes.Equal(res.Record, want.Record) {
			t.Errorf("line %d read as %+v (record %s), want %+v (record %s)", res.Line, res, res.Record, want, want.Record)
		}
		break // stopping early is fine
	}
}

// A reader shows the job's meta table, runs and progress, and never
// changes the file, however much it reads.
func TestReaderReadsMetaRunsAndProgressWithoutChangingTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	file := writeLines(t, 50)
	runLines(t, path, file, nil, 20, flakyResult) // interrupted
	runLines(t, path, file, nil, 0, flakyResult)  // done
	before, _ := os.ReadFile(path)
	ctx := context.Background()
	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Meta(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Total != 50 || m.Created == "" || len(m.Settings) != len(testSettings) || m.Values["key"] == "" {
		t.Errorf("meta %+v", m)
	}
	if m.Settings[0].Key != "--method" || m.Settings[0].Value != "GET" {
		t.Errorf("settings %+v, want the run's", m.Settings)
	}
	runs, err := r.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Status != "interrupted" || runs[1].Status != "done" || runs[1].Ended.Before(runs[1].Started) || time.Since(runs[0].Started) > time.Minute {
		t.Errorf("runs %+v", runs)
	}
	p, err := r.Progress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p != (Progress{Stored: 50, Failed: 10, Total: 50}) {
		t.Errorf("progress %+v", p)
	}
	readLines(t, r, nil, false)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("reading changed the job file")
	}
}

// A damaged page met while reading the results (the whole-file check was
// skipped: AfterClose of a file that looks as Close left it) is an error
// wrapping ErrDamaged, naming the file.
func TestReaderResultsMeetingADamagedPageFailWithErrDamaged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	runLines(t, path, writeLines(t, 5000), nil, 0, okResult)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	damagePages(t, path)
	os.Chtimes(path, fi.ModTime(), fi.ModTime()) // as Close left it, to the eye
	ctx := context.Background()
	r, err := OpenReader(ctx, path, AfterClose())
	if err != nil {
		t.Fatalf("OpenReader(AfterClose) checked the file: %v", err)
	}
	defer r.Close()
	var rerr error
	n := 0
	for _, err := range r.Results(ctx, nil) {
		if err != nil {
			rerr = err
			break
		}
		n++
	}
	if !errors.Is(rerr, ErrDamaged) {
		t.Fatalf("read %d results, then %v; want ErrDamaged", n, rerr)
	}
	if !bytes.Contains([]byte(rerr.Error()), []byte(path)) {
		t.Errorf("%v does not name the file", rerr)
	}
}

// A Snapshot's aggregates agree with the results read one by one.
func TestSnapshotAggregatesAgreeWithTheResults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	file := writeLines(t, 200)
	runLines(t, path, file, nil, 0, flakyResult)
	f, _ := ParseFilter("5xx")
	runLines(t, path, file, f, 0, okResult) // the 503s again, replaced
	ctx := context.Background()
	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tot, err := s.Totals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Stored != 200 || tot.OK != 180 || tot.Superseded != 20 || tot.Sent != 200 || tot.FirstFinished == 0 || tot.LastFinished < tot.FirstFinished {
		t.Errorf("totals %+v", tot)
	}
	kinds, err := s.ErrorKinds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 1 || kinds[0].Kind != "timeout_total" || kinds[0].N != 20 || kinds[0].Example.Line != 7 {
		t.Errorf("error kinds %+v", kinds)
	}
	groups, err := s.Groups(ctx, Buckets{LatencyBounds: []float64{1}, TimeStart: tot.FirstFinished - 1, TimeWidth: 3600})
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[int]int64{}
	for _, g := range groups {
		byStatus[g.Status] += g.N
		if g.Time != 0 || g.Latency != 0 {
			t.Errorf("group %+v: want time bucket 0, latency bucket 0 (ms 0 < 1)", g)
		}
	}
	if byStatus[200] != 180 || byStatus[0] != 20 {
		t.Errorf("by status %v", byStatus)
	}
	top, err := s.TopHosts(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Busiest) != 1 || top.Busiest[0] != (HostCount{Host: "h", Results: 200, Failed: 20, HasMedian: true}) || len(top.MostFailing) != 1 {
		t.Errorf("hosts %+v", top)
	}
	ms, err := s.Latencies(ctx, 1, 200, 201)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Errorf("latencies at ranks 1, 200, 201: %v; want two (201 is out of range)", ms)
	}
}
