package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gogather/gather/fetch"
)

// The lines of a file are counted fast and exactly (a last line without
// its newline counts), and the count stops when its context ends.
func TestCountFileLines(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]int64{"": 0, "a\n": 1, "a\nb": 2, "a\nb\n": 2, strings.Repeat("http://h/x\n", 300000): 300000} {
		p := filepath.Join(dir, "f")
		os.WriteFile(p, []byte(content), 0o644)
		if got, err := countFileLines(context.Background(), p); err != nil || got != want {
			t.Errorf("%d bytes: %d lines, %v; want %d", len(content), got, err, want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := countFileLines(ctx, filepath.Join(dir, "f")); err == nil {
		t.Error("a cancelled count went on")
	}
}

// The display moves with the records done, against the inputs of the file
// (its lines, counted first), whatever the reader has read ahead: 10 of
// 100 records is 10%, then 50%.
func TestProgressMovesWithRecords(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,url\n")
	for i := range 100 {
		fmt.Fprintf(&b, "%d,http://h/%d\n", i, i)
	}
	file := writeTestFile(t, t.TempDir(), "in.csv", b.String())
	var out bytes.Buffer
	p := newProgressTo(&out, 0)
	p.countLines(context.Background(), file, true)
	waitUntil(t, "the count", 10*time.Second, func() bool { return p.total.Load() >= 0 })
	if got := p.total.Load(); got != 100 {
		t.Fatalf("total %d, want 100 (the CSV header is not an input)", got)
	}
	p.update(progressState{Done: 10, Failed: 1, Load: fetch.Load{OnWire: 4, WaitingSlot: 7, WaitingRetry: 1}})
	if s := out.String(); !strings.Contains(s, "10%") || !strings.Contains(s, "10/100") || !strings.Contains(s, "4 on the wire (waiting: 7 slot, 0 rate, 1 retry)") {
		t.Fatalf("after 10 records: %q", s)
	}
	out.Reset()
	p.update(progressState{Done: 50})
	if s := out.String(); !strings.Contains(s, "50%") {
		t.Fatalf("after 50 records: %q", s)
	}
	// A job resumed with 60 stored: 40 to do.
	q := newProgressTo(&out, 0)
	q.base = 60
	q.countLines(context.Background(), file, true)
	waitUntil(t, "the count", 10*time.Second, func() bool { return q.total.Load() >= 0 })
	if got := q.total.Load(); got != 40 {
		t.Fatalf("resumed: total %d, want 40", got)
	}
	p.finish()
	q.finish()
}

// For a pipe (no total), the display shows counts and the rate.
func TestProgressWithoutTotal(t *testing.T) {
	var out bytes.Buffer
	p := newProgressTo(&out, 0)
	p.update(progressState{Done: 42, Failed: 2, Load: fetch.Load{OnWire: 3}})
	if s := out.String(); !strings.Contains(s, "42") || !strings.Contains(s, "/s") || !strings.Contains(s, "2 errors") || strings.Contains(s, "waiting") {
		t.Fatalf("%q", s)
	}
	p.finish()
}
