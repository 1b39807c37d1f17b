package run

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/human"
)

// stats summarises a run as records come in, in memory bounded by the
// number of distinct hosts, statuses and error kinds, never by the number
// of records: latencies go into log-scale histograms with 1% resolution
// (one for the run, one per host). It is not safe for concurrent use,
// but for AddSkipped and NoteInput.
type stats struct {
	start    time.Time
	Records  int64            `json:"records"`
	OK       int64            `json:"ok"`
	Failed   int64            `json:"failed"`
	Statuses map[string]int64 `json:"statuses"`    // by class: "2xx", "4xx", ..., "none"
	Kinds    map[string]int64 `json:"error_kinds"` // failures by kind
	Retries  int64            `json:"retries"`     // attempts beyond the first, in all
	Bytes    int64            `json:"bytes"`
	SumMS    float64          `json:"sum_ms"` // every record's ms added up: the time one after another

	latency histogram
	hosts   map[string]*hostStats
	// last is the host of the last outcome counted, and lastStats its
	// statistics: most outcomes are for the host of the one before.
	last      string
	lastStats *hostStats

	// Set by the input's reader, maybe from another goroutine.
	skipped atomic.Int64
	noteMu  sync.Mutex
	note    string
}

type hostStats struct {
	records, failed int64
	totalMS         float64
	latency         histogram // of the records that sent a request
}

// AddSkipped counts n inputs skipped without a record: blank lines and
// # comments of a plain list, which are neither requests nor failures.
// It may be called from any goroutine (the input's reader), while records
// are added.
func (s *stats) AddSkipped(n int64) { s.skipped.Add(n) }

// NoteInput sets a note on the input that the summary prints, such as
// "the input ended early at line 7, column 3: bare quote in CSV"; a later
// note replaces an earlier one. It may be called from any goroutine.
func (s *stats) NoteInput(note string) {
	s.noteMu.Lock()
	s.note = note
	s.noteMu.Unlock()
}

// newStats returns empty statistics whose clock starts now.
func newStats() *stats {
	return &stats{start: time.Now(), Statuses: map[string]int64{}, Kinds: map[string]int64{}, hosts: map[string]*hostStats{}}
}

// Add counts one outcome.
func (s *stats) Add(r Outcome) {
	s.Records++
	if r.OK {
		s.OK++
	} else {
		s.Failed++
		s.Kinds[r.Kind]++
	}
	s.Statuses[fetch.StatusClass(r.Status)]++
	if r.Attempts > 1 {
		s.Retries += int64(r.Attempts - 1)
	}
	s.Bytes += r.Bytes
	bucket := -1
	if r.Attempts > 0 {
		bucket = histBucket(r.MS)
		s.latency.addAt(bucket, r.MS)
		s.SumMS += r.MS
	}
	// A bad input was never sent: its host, never contacted, is no host
	// of the run's.
	if host := r.Host; host != "" && (r.OK || r.Kind != string(fetch.KindBadInput)) {
		h := s.lastStats
		if h == nil || host != s.last {
			h = s.hosts[host]
			if h == nil {
				h = &hostStats{}
				s.hosts[host] = h
			}
			s.last, s.lastStats = host, h
		}
		h.records++
		h.totalMS += r.MS
		if bucket >= 0 {
			h.latency.addAt(bucket, r.MS)
		}
		if !r.OK {
			h.failed++
		}
	}
}

// Summary is the statistics frozen into a report, the JSON of --stats.
type Summary struct {
	Records    int64            `json:"records"`
	OK         int64            `json:"ok"`
	Failed     int64            `json:"failed"`
	Statuses   map[string]int64 `json:"statuses"`
	ErrorKinds map[string]int64 `json:"error_kinds"`
	Retries    int64            `json:"retries"`
	Bytes      int64            `json:"bytes"`
	// SumMS is every record's ms added up: how long the same requests
	// would have taken one by one.
	SumMS float64 `json:"sum_ms"`
	// Seconds is the wall time of the run.
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"per_second"`
	// Speedup is SumMS against Seconds: how many times faster the run
	// was than the same requests one by one (0 when either is 0).
	Speedup   float64 `json:"speedup"`
	LatencyMS Latency `json:"latency_ms"`
	// Slowest are the 5 hosts of highest median latency, among the hosts
	// with a record that sent a request.
	Slowest []HostSummary `json:"slowest_hosts"`
	// MostFailed are the 5 hosts with the most failed records (then the
	// highest failure ratio), hosts without failures left out.
	MostFailed []HostSummary `json:"most_failing_hosts"`
	// Skipped counts the inputs skipped (blank lines and # comments of a
	// plain list, blank lines of CSV and JSONL): not records, not failures.
	Skipped int64 `json:"skipped,omitempty"`
	// InputNote is a note on the input, such as why it ended early ("the
	// input ended early at line 7, column 3: bare quote in CSV").
	InputNote string `json:"input_note,omitempty"`
}

// Latency holds latency percentiles, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// HostSummary is one host's share of a run. Its definitions are the job
// report's (package report): latencies are those of the records that
// sent a request, the median is the nearest-rank 50th percentile (here
// within 1%, from a histogram).
type HostSummary struct {
	Host    string `json:"host"`
	Records int64  `json:"records"`
	Failed  int64  `json:"failed"`
	// FailureRatio is Failed / Records.
	FailureRatio float64 `json:"failure_ratio"`
	// MedianMS is the median latency (0 when no record sent a request).
	MedianMS float64 `json:"median_ms"`
	// MeanMS is the mean ms of all the host's records (kept for readers
	// of earlier summaries; the lists are ranked by MedianMS).
	MeanMS float64 `json:"mean_ms"`
}

// Summary returns the report so far.
func (s *stats) Summary() Summary {
	secs := time.Since(s.start).Seconds()
	sum := Summary{
		Records: s.Records, OK: s.OK, Failed: s.Failed, Statuses: s.Statuses, ErrorKinds: s.Kinds,
		Retries: s.Retries, Bytes: s.Bytes, SumMS: round3(s.SumMS), Seconds: round3(secs),
		LatencyMS: Latency{
			P50: round3(s.latency.quantile(0.50)), P90: round3(s.latency.quantile(0.90)),
			P99: round3(s.latency.quantile(0.99)), Max: round3(s.latency.max),
		},
		Skipped: s.skipped.Load(),
	}
	s.noteMu.Lock()
	sum.InputNote = s.note
	s.noteMu.Unlock()
	if secs > 0 {
		sum.PerSecond = round3(float64(s.Records) / secs)
		sum.Speedup = round3(s.SumMS / 1000 / secs)
	}
	var timed, failing []HostSummary
	for host, h := range s.hosts {
		hs := HostSummary{Host: host, Records: h.records, Failed: h.failed,
			FailureRatio: round3(float64(h.failed) / float64(h.records)),
			MedianMS:     round3(h.latency.quantile(0.5)), MeanMS: round3(h.totalMS / float64(h.records))}
		if h.latency.n > 0 {
			timed = append(timed, hs)
		}
		if h.failed > 0 {
			failing = append(failing, hs)
		}
	}
	sum.Slowest = topHosts(timed, func(a, b HostSummary) bool { return a.MedianMS > b.MedianMS })
	sum.MostFailed = topHosts(failing, func(a, b HostSummary) bool {
		if a.Failed != b.Failed {
			return a.Failed > b.Failed
		}
		return float64(a.Failed)/float64(a.Records) > float64(b.Failed)/float64(b.Records)
	})
	return sum
}

// topHosts returns the first 5 of hosts in the order of less, ties broken
// by name so that reports are stable.
func topHosts(hosts []HostSummary, less func(a, b HostSummary) bool) []HostSummary {
	hosts = slices.Clone(hosts)
	sort.Slice(hosts, func(i, j int) bool {
		if less(hosts[i], hosts[j]) != less(hosts[j], hosts[i]) {
			return less(hosts[i], hosts[j])
		}
		return hosts[i].Host < hosts[j].Host
	})
	return hosts[:min(len(hosts), 5)]
}

// WriteText writes the summary for a person to read. What comes from the
// input (hosts, the input note) is printed with its control characters
// escaped, so that a host name cannot drive the terminal.
func (sum Summary) WriteText(w io.Writer) {
	if sum.Records == 0 {
		fmt.Fprintf(w, "no records in %.2fs\n", sum.Seconds)
	} else {
		fmt.Fprintf(w, "%d records in %.2fs (%.0f/s): %d ok, %d failed, %d retries, %s read\n",
			sum.Records, sum.Seconds, sum.PerSecond, sum.OK, sum.Failed, sum.Retries, human.Bytes(sum.Bytes))
		fmt.Fprintf(w, "latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n",
			sum.LatencyMS.P50, sum.LatencyMS.P90, sum.LatencyMS.P99, sum.LatencyMS.Max)
		fmt.Fprintf(w, "status: %s\n", joinCounts(sum.Statuses))
	}
	if len(sum.ErrorKinds) > 0 {
		kinds := map[string]int64{}
		for k, n := range sum.ErrorKinds {
			kinds[string(k)] = n
		}
		fmt.Fprintf(w, "errors: %s\n", joinCounts(kinds))
	}
	if len(sum.Slowest) > 1 {
		var parts []string
		for _, h := range sum.Slowest {
			parts = append(parts, fmt.Sprintf("%s median %.1f ms (%d records, %d failed)", escapeControls(h.Host), h.MedianMS, h.Records, h.Failed))
		}
		fmt.Fprintf(w, "slowest hosts (by median latency): %s\n", strings.Join(parts, "; "))
	}
	if len(sum.MostFailed) > 0 {
		var parts []string
		for _, h := range sum.MostFailed {
			parts = append(parts, fmt.Sprintf("%s %d of %d failed (%.1f%%)", escapeControls(h.Host), h.Failed, h.Records, 100*float64(h.Failed)/float64(h.Records)))
		}
		fmt.Fprintf(w, "most failing hosts: %s\n", strings.Join(parts, "; "))
	}
	// Below 10 ms of wall time the ratio says nothing.
	if sum.Records > 0 && sum.SumMS > 0 && sum.Seconds >= 0.01 {
		oneByOne := time.Duration(sum.SumMS * float64(time.Millisecond))
		took := time.Duration(sum.Seconds * float64(time.Second))
		fmt.Fprintf(w, "one by one, these requests would have taken %v; concurrently they took %v (%s faster)\n",
			roundDuration(oneByOne), roundDuration(took), speedup(sum.SumMS/1000/sum.Seconds))
	}
	if sum.Skipped > 0 {
		if sum.Skipped == 1 {
			fmt.Fprintln(w, "1 input skipped (a blank line or a # comment), not a failure")
		} else {
			fmt.Fprintf(w, "%d inputs skipped (blank lines and # comments), not failures\n", sum.Skipped)
		}
	}
	if sum.InputNote != "" {
		fmt.Fprintf(w, "input: %s\n", escapeControls(sum.InputNote))
	}
}

// speedup formats a ratio: one decimal below 10, none from 10.
func speedup(x float64) string {
	if x < 10 {
		return strconv.FormatFloat(x, 'f', 1, 64) + "x"
	}
	return strconv.FormatFloat(x, 'f', 0, 64) + "x"
}

// escapeControls returns s with its control characters (C0, DEL, C1)
// and invalid UTF-8 escaped as strconv.Quote escapes them (\x1b, \a,
// \r, \u0085), printable text, quotes and backslashes left as they are.
func escapeControls(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if (r == utf8.RuneError && size <= 1) || unicode.IsControl(r) {
			q := strconv.Quote(s[:size])
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

// roundDuration rounds d for a person to read: to the second from a
// minute, to 10ms from a second, else to 0.1ms.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}

func joinCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// histogram counts values (milliseconds) in buckets growing by 1%, from
// 1 microsecond up; quantiles are read back within 1%.
type histogram struct {
	counts []int64
	n      int64
	max    float64
}

const (
	histMin    = 0.001 // ms
	histGrowth = 1.01
)

// histBucket returns the bucket of a value.
func histBucket(ms float64) int {
	if ms > histMin {
		return int(math.Log(ms/histMin)/math.Log(histGrowth)) + 1
	}
	return 0
}

// addAt counts ms in its bucket i (histBucket(ms)).
func (h *histogram) addAt(i int, ms float64) {
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]int64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	h.n++
	h.max = max(h.max, ms)
}

// quantile returns the upper bound of the bucket holding the q-quantile.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			if i == 0 {
				return histMin
			}
			return min(histMin*math.Pow(histGrowth, float64(i)), h.max)
		}
	}
	return h.max
}
