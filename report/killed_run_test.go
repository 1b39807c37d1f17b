package report

import (
	"strings"
	"testing"
	"time"
)

// A run that a later one marked interrupted (its process was killed) has
// no end: the text says it was killed, not that it runs "since".
func TestKilledRunText(t *testing.T) {
	r := &Report{Runs: []Run{
		{ID: 1, Started: time.Unix(1000, 0).UTC(), Status: "interrupted"},
		{ID: 2, Started: time.Unix(2000, 0).UTC(), Status: "running"},
	}}
	got := r.runsText()
	want := "#1 interrupted, from 1970-01-01 00:16:40 UTC, killed; #2 running, since 1970-01-01 00:33:20 UTC"
	if got != want {
		t.Errorf("runs: %q, want %q", got, want)
	}
	if strings.Contains(got, "interrupted, since") {
		t.Error("a killed run is shown as still going")
	}
}
