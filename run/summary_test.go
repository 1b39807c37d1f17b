package run

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/job"
)

// The summary's hosts use the report's definitions: the slowest by median
// latency (nearest rank, over the records that sent a request), labelled;
// the most failing by failed count, then rate, with both shown.
func TestStatsHostsMedianAndFailing(t *testing.T) {
	s := newStats()
	add := func(host string, ms float64, failed bool) {
		r := fetch.Record{URL: "http://" + host + "/x", MS: ms, Status: 200, Attempts: 1}
		if failed {
			r.Error, r.Status = &fetch.Error{Kind: fetch.KindHTTPStatus}, 500
		}
		s.Add(FetchOutcome(r))
	}
	// mean 1000, median 10: a mean would put it first.
	for range 9 {
		add("skewed:1", 10, false)
	}
	add("skewed:1", 9000, false)
	// mean = median = 50.
	for range 3 {
		add("steady:2", 50, false)
	}
	// 25 of 100 failing, and two hosts failing 2 of 2.
	for i := range 100 {
		add("quarter:3", 1, i < 25)
	}
	for range 2 {
		add("all-a:4", 1, true)
		add("all-b:5", 1, true)
	}
	// A bad input has a host, never contacted: no host of the run's.
	s.Add(FetchOutcome(fetch.Record{URL: "http://nolatency:6/", Error: &fetch.Error{Kind: fetch.KindBadInput}}))
	sum := s.Summary()
	if len(sum.Slowest) < 2 || sum.Slowest[0].Host != "http://steady:2" || sum.Slowest[1].Host != "http://skewed:1" {
		t.Fatalf("slowest %+v: want steady:2 (median 50) before skewed:1 (median 10)", sum.Slowest)
	}
	if m := sum.Slowest[1].MedianMS; m < 9.9 || m > 10.1 {
		t.Errorf("skewed median %v, want 10 within 1%%", m)
	}
	for _, h := range sum.Slowest {
		if h.Host == "http://nolatency:6" {
			t.Errorf("a host without latencies ranks among the slowest")
		}
	}
	want := []string{"http://quarter:3", "http://all-a:4", "http://all-b:5"}
	var got []string
	for _, h := range sum.MostFailed {
		got = append(got, h.Host)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("most failing %v, want %v (by failed count, then rate)", got, want)
	}
	if r := sum.MostFailed[0].FailureRatio; r != 0.25 {
		t.Errorf("failure ratio %v", r)
	}
	var b bytes.Buffer
	sum.WriteText(&b)
	text := b.String()
	for _, s := range []string{"slowest hosts (by median latency): http://steady:2 median 50.0 ms", "most failing hosts: http://quarter:3 25 of 100 failed (25.0%)"} {
		if !strings.Contains(text, s) {
			t.Errorf("summary lacks %q:\n%s", s, text)
		}
	}
}

// The summary says how long the requests would have taken one by one
// against the wall time, the inputs skipped, and a note on the input;
// the input's reader may set them while records are added.
func TestSummaryOneByOneSkippedAndInputNote(t *testing.T) {
	s := newStats()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 7 {
			s.AddSkipped(1)
		}
		s.NoteInput("the input ended early at line 7, column 3: bare quote in CSV")
	})
	for range 100 {
		s.Add(FetchOutcome(fetch.Record{URL: "http://h/x", MS: 5000, Status: 200, Attempts: 1}))
	}
	wg.Wait()
	sum := s.Summary()
	sum.Seconds = 2 // as if the run took 2 s
	sum.Speedup = sum.SumMS / 1000 / sum.Seconds
	if sum.Skipped != 7 || sum.InputNote == "" || sum.SumMS != 500000 {
		t.Fatalf("%+v", sum)
	}
	var b bytes.Buffer
	sum.WriteText(&b)
	text := b.String()
	for _, s := range []string{
		"one by one, these requests would have taken 8m20s; concurrently they took 2s (250x faster)",
		"7 inputs skipped (blank lines and # comments)",
		"the input ended early at line 7, column 3: bare quote in CSV",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("summary lacks %q:\n%s", s, text)
		}
	}
	one := Summary{Skipped: 1}
	b.Reset()
	one.WriteText(&b)
	if !strings.Contains(b.String(), "1 input skipped (a blank line or a # comment), not a failure") {
		t.Errorf("one skipped input: %s", b.String())
	}
	var empty bytes.Buffer
	newStats().Summary().WriteText(&empty)
	if strings.Contains(empty.String(), "one by one") || strings.Contains(empty.String(), "skipped") {
		t.Errorf("an empty summary: %s", empty.String())
	}
}

// Strings the summary prints from the input or a stage (hosts, the input
// note) show
// control characters escaped, never raw: a host name holding ESC must
// not drive the terminal. Hosts of bad_input records, never contacted, are
// left out of the host statistics.
func TestSummaryEscapesInputStrings(t *testing.T) {
	s := newStats()
	for range 3 {
		// The fetch engine's hosts are parsed URLs, without control
		// characters; another stage's host may hold anything.
		s.Add(Outcome{Result: job.Result{Host: "ho\x1b[2Jst", MS: 5, Attempts: 1, Kind: string(fetch.KindConnect)}})
		s.Add(Outcome{Result: job.Result{Host: "slow\x07:1", MS: 50, Attempts: 1, Status: 200, OK: true}})
		s.Add(FetchOutcome(fetch.Record{URL: "http://never\x1b]0;x\x07:2/", Error: &fetch.Error{Kind: fetch.KindBadInput}}))
	}
	s.NoteInput("the input ended early at line 2: \x1b[31mred\r")
	sum := s.Summary()
	for _, h := range append(sum.Slowest, sum.MostFailed...) {
		if strings.HasPrefix(h.Host, "never") {
			t.Errorf("a bad_input host in the host statistics: %+v", h)
		}
	}
	var b bytes.Buffer
	sum.WriteText(&b)
	text := b.String()
	if strings.ContainsAny(text, "\x1b\x07\r") {
		t.Errorf("raw control characters in the summary: %q", text)
	}
	for _, want := range []string{`ho\x1b[2Jst`, `slow\a:1`, `\x1b[31mred\r`} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}

// The one-by-one line shows one decimal below 10x, and is left out when
// the wall time is about 0; an empty run says "no records" rather than
// empty figures.
func TestSummarySpeedupAndEmpty(t *testing.T) {
	s := newStats()
	s.Add(FetchOutcome(fetch.Record{URL: "http://h/x", MS: 1200, Status: 200, Attempts: 1}))
	sum := s.Summary()
	sum.Seconds = 1
	var b bytes.Buffer
	sum.WriteText(&b)
	if !strings.Contains(b.String(), "(1.2x faster)") {
		t.Errorf("want 1.2x:\n%s", b.String())
	}
	sum.Seconds = 0.0001
	b.Reset()
	sum.WriteText(&b)
	if strings.Contains(b.String(), "one by one") {
		t.Errorf("a one-by-one line for a wall time of about 0:\n%s", b.String())
	}
	b.Reset()
	newStats().Summary().WriteText(&b)
	text := b.String()
	if !strings.Contains(text, "no records") || strings.Contains(text, "p50") || strings.Contains(text, "status:") || strings.Contains(text, "one by one") {
		t.Errorf("an empty summary:\n%s", text)
	}
}

func TestStatsSummary(t *testing.T) {
	s := newStats()
	add := func(url string, ms float64, status int, kind fetch.Kind) {
		r := fetch.Record{URL: url, MS: ms, Status: status, Attempts: 1}
		if kind != "" {
			r.Error = &fetch.Error{Kind: kind}
		}
		s.Add(FetchOutcome(r))
	}
	for i := range 100 {
		add("http://a:1/x", float64(i+1), 200, "")
	}
	add("http://b:2/y?q", 500, 503, fetch.KindHTTPStatus)
	add("http://b:2/z", 300, 0, fetch.KindReset)
	add("http://c:3/", 1, 0, fetch.KindConnect)
	add("not a url", 0, 0, fetch.KindBadInput)
	sum := s.Summary()
	if sum.Records != 104 || sum.OK != 100 || sum.Failed != 4 || sum.Statuses["2xx"] != 100 || sum.Statuses["none"] != 3 {
		t.Fatalf("counts %+v", sum)
	}
	if sum.ErrorKinds[string(fetch.KindReset)] != 1 || sum.ErrorKinds[string(fetch.KindBadInput)] != 1 {
		t.Fatalf("kinds %v", sum.ErrorKinds)
	}
	// Percentiles within the histogram's 1%.
	if p := sum.LatencyMS.P50; p < 49 || p > 52 {
		t.Fatalf("p50 %v", p)
	}
	if sum.LatencyMS.Max != 500 {
		t.Fatalf("max %v", sum.LatencyMS.Max)
	}
	if len(sum.Slowest) != 3 || sum.Slowest[0].Host != "http://b:2" || sum.Slowest[0].MeanMS != 400 {
		t.Fatalf("slowest %+v", sum.Slowest)
	}
	if len(sum.MostFailed) != 2 || sum.MostFailed[0].Host != "http://b:2" || sum.MostFailed[0].Failed != 2 || sum.MostFailed[1].Host != "http://c:3" {
		t.Fatalf("most failing %+v", sum.MostFailed)
	}
}
