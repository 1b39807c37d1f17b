package fetch

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gogather/gather/internal/human"
)

// Stats summarises a run as records come in, in memory bounded by the
// number of distinct hosts, statuses and error kinds, never by the number
// of records: latencies go into a log-scale histogram with 1% resolution.
// It is not safe for concurrent use.
type Stats struct {
	start    time.Time
	Records  int64            `json:"records"`
	OK       int64            `json:"ok"`
	Failed   int64            `json:"failed"`
	Statuses map[string]int64 `json:"statuses"`    // by class: "2xx", "4xx", ..., "none"
	Kinds    map[Kind]int64   `json:"error_kinds"` // failures by kind
	Retries  int64            `json:"retries"`     // attempts beyond the first, in all
	Bytes    int64            `json:"bytes"`
	SumMS    float64          `json:"sum_ms"` // every record's ms added up: the time one after another

	latency histogram
	hosts   map[string]*hostStats
}

type hostStats struct {
	records, failed int64
	totalMS         float64
}

// NewStats returns empty statistics whose clock starts now.
func NewStats() *Stats {
	return &Stats{start: time.Now(), Statuses: map[string]int64{}, Kinds: map[Kind]int64{}, hosts: map[string]*hostStats{}}
}

// Add counts one record.
func (s *Stats) Add(r Record) {
	s.Records++
	if r.Error == nil {
		s.OK++
	} else {
		s.Failed++
		s.Kinds[r.Error.Kind]++
	}
	s.Statuses[statusClass(r.Status)]++
	if r.Attempts > 1 {
		s.Retries += int64(r.Attempts - 1)
	}
	s.Bytes += r.Bytes
	if r.Attempts > 0 {
		s.latency.add(r.MS)
		s.SumMS += r.MS
	}
	if host := HostOf(r.URL); host != "" {
		h := s.hosts[host]
		if h == nil {
			h = &hostStats{}
			s.hosts[host] = h
		}
		h.records++
		h.totalMS += r.MS
		if r.Error != nil {
			h.failed++
		}
	}
}

// statusClasses are the classes of the statuses 100 to 999.
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx", "9xx"}

// statusClass returns a status's class, "2xx" for 200 to 299, or "none"
// for 0.
func statusClass(status int) string {
	switch {
	case status <= 0:
		return "none"
	case status >= 100 && status < 1000:
		return statusClasses[status/100-1]
	}
	return fmt.Sprintf("%dxx", status/100)
}

// HostOf returns the host[:port] of an http or https URL as written, without
// any user information, or "" for another string: the host of the summary's
// tables and of a job file's results.
func HostOf(u string) string {
	rest, ok := strings.CutPrefix(u, "http://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "https://"); !ok {
			return ""
		}
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, "?")
	host, _, _ = strings.Cut(host, "#")
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:] // never report credentials
	}
	return host
}

// Summary is Stats frozen into a report, the JSON of --stats.
type Summary struct {
	Records    int64            `json:"records"`
	OK         int64            `json:"ok"`
	Failed     int64            `json:"failed"`
	Statuses   map[string]int64 `json:"statuses"`
	ErrorKinds map[Kind]int64   `json:"error_kinds"`
	Retries    int64            `json:"retries"`
	Bytes      int64            `json:"bytes"`
	SumMS      float64          `json:"sum_ms"`
	Seconds    float64          `json:"seconds"`
	PerSecond  float64          `json:"per_second"`
	LatencyMS  Latency          `json:"latency_ms"`
	Slowest    []HostSummary    `json:"slowest_hosts"`      // the 5 hosts of highest mean ms
	MostFailed []HostSummary    `json:"most_failing_hosts"` // the 5 hosts with the most failed records, if any failed
}

// Latency holds latency percentiles, in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// HostSummary is one host's share of a run.
type HostSummary struct {
	Host    string  `json:"host"`
	Records int64   `json:"records"`
	Failed  int64   `json:"failed"`
	MeanMS  float64 `json:"mean_ms"`
}

// Summary returns the report so far.
func (s *Stats) Summary() Summary {
	secs := time.Since(s.start).Seconds()
	sum := Summary{
		Records: s.Records, OK: s.OK, Failed: s.Failed, Statuses: s.Statuses, ErrorKinds: s.Kinds,
		Retries: s.Retries, Bytes: s.Bytes, SumMS: round3(s.SumMS), Seconds: round3(secs),
		LatencyMS: Latency{
			P50: round3(s.latency.quantile(0.50)), P90: round3(s.latency.quantile(0.90)),
			P99: round3(s.latency.quantile(0.99)), Max: round3(s.latency.max),
		},
	}
	if secs > 0 {
		sum.PerSecond = round3(float64(s.Records) / secs)
	}
	var hosts []HostSummary
	for host, h := range s.hosts {
		hosts = append(hosts, HostSummary{host, h.records, h.failed, round3(h.totalMS / float64(h.records))})
	}
	sum.Slowest = topHosts(hosts, func(a, b HostSummary) bool { return a.MeanMS > b.MeanMS })
	var failing []HostSummary
	for _, h := range hosts {
		if h.Failed > 0 {
			failing = append(failing, h)
		}
	}
	sum.MostFailed = topHosts(failing, func(a, b HostSummary) bool { return a.Failed > b.Failed })
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

// WriteText writes the summary for a person to read.
func (sum Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%d records in %.2fs (%.0f/s): %d ok, %d failed, %d retries, %s read\n",
		sum.Records, sum.Seconds, sum.PerSecond, sum.OK, sum.Failed, sum.Retries, human.Bytes(sum.Bytes))
	fmt.Fprintf(w, "latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n",
		sum.LatencyMS.P50, sum.LatencyMS.P90, sum.LatencyMS.P99, sum.LatencyMS.Max)
	fmt.Fprintf(w, "status: %s\n", joinCounts(sum.Statuses))
	if len(sum.ErrorKinds) > 0 {
		kinds := map[string]int64{}
		for k, n := range sum.ErrorKinds {
			kinds[string(k)] = n
		}
		fmt.Fprintf(w, "errors: %s\n", joinCounts(kinds))
	}
	hostLine := func(title string, hosts []HostSummary) {
		var parts []string
		for _, h := range hosts {
			parts = append(parts, fmt.Sprintf("%s %.1fms (%d, %d failed)", h.Host, h.MeanMS, h.Records, h.Failed))
		}
		fmt.Fprintf(w, "%s: %s\n", title, strings.Join(parts, "; "))
	}
	if len(sum.Slowest) > 1 {
		hostLine("slowest hosts", sum.Slowest)
	}
	if len(sum.MostFailed) > 0 {
		hostLine("most failing hosts", sum.MostFailed)
	}
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

func (h *histogram) add(ms float64) {
	i := 0
	if ms > histMin {
		i = int(math.Log(ms/histMin)/math.Log(histGrowth)) + 1
	}
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
