// Package report summarises a gather job file (see package job): how far
// the job got, its outcomes by status and error kind, latency percentiles
// and distribution, throughput over time, the slowest and most failing
// hosts, and the retries it spent.
//
// Load computes a Report from the aggregations of a job.Snapshot (one read
// transaction), so the numbers agree with each other even while a run is
// writing the file; memory is bounded by the number of status codes,
// error kinds and buckets, never by the number of results. A Report is
// rendered for a terminal (WriteText), as a self-contained HTML page with
// inline SVG charts and no external resources (WriteHTML), or marshalled
// as JSON.
//
// Definitions used throughout:
//
//   - Latencies are the ms of results that sent a request (attempts > 0):
//     bad inputs and inputs failed fast by an open circuit have none.
//   - Percentiles are nearest-rank: the q-th percentile of n latencies is
//     the ceil(q*n)-th smallest; a host's median is its 50th percentile.
//   - Retries are the attempts beyond the first, summed over the results
//     stored; superseded results are the history table's rows, results
//     that a later run (--retry-failed) replaced.
package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/redact"
	"github.com/gogather/gather/job"
)

// A Report is what a job file says about its job.
type Report struct {
	// Job names the job file; Load leaves it empty for the caller to set.
	Job string `json:"job,omitempty"`
	// Created is when the job was created (RFC 3339), if recorded.
	Created string `json:"created,omitempty"`
	// Total is the number of inputs, nil until a run has read the input to
	// its end.
	Total *int64 `json:"total"`
	// Stored is the number of results stored: one per input done.
	Stored int64 `json:"stored"`
	// OK and Failed split Stored by outcome.
	OK     int64 `json:"ok"`
	Failed int64 `json:"failed"`
	// Bytes is the body bytes read, over the results stored.
	Bytes int64 `json:"bytes"`
	// Runs are the runs of the command on this job, oldest first.
	Runs []Run `json:"runs"`
	// StatusCodes counts results by final HTTP status ("0": no response),
	// in the order of the codes.
	StatusCodes []Count `json:"status_codes"`
	// StatusClasses counts results by status class ("2xx", ..., "none"),
	// in that order.
	StatusClasses []Count `json:"status_classes"`
	// ErrorKinds counts failed results by error kind, most first, each
	// with an example.
	ErrorKinds []ErrorKind `json:"error_kinds"`
	// Latency holds the latency percentiles.
	Latency Latency `json:"latency_ms"`
	// LatencyHistogram counts latencies in log-scale buckets (1, 2, 5, 10,
	// 20, 50, ... ms), from the bucket of the smallest to the bucket of
	// the largest.
	LatencyHistogram []LatencyBucket `json:"latency_histogram"`
	// Throughput is results stored per time bucket.
	Throughput Throughput `json:"throughput"`
	// BusiestHosts are the hosts with the most results, with their
	// outcomes (up to TopN).
	BusiestHosts []Host `json:"busiest_hosts"`
	// SlowestHosts are the hosts of highest median latency (up to TopN).
	SlowestHosts []Host `json:"slowest_hosts"`
	// FailingHosts are the hosts with the most failed results (up to
	// TopN), only hosts with failures.
	FailingHosts []Host `json:"most_failing_hosts"`
	// Retries is the attempts beyond the first, over the results stored.
	Retries int64 `json:"retries"`
	// Superseded is the number of earlier results replaced by a later run
	// (the history table's rows).
	Superseded int64 `json:"superseded"`
}

// TopN is how many hosts the host lists hold at most.
const TopN = 10

// A Run is one run of gather fetch on the job.
type Run struct {
	ID      int64      `json:"id"`
	Started time.Time  `json:"started"`
	Ended   *time.Time `json:"ended,omitempty"` // nil while running, or if the run was killed
	Status  string     `json:"status"`          // running, done, interrupted or failed
}

// MarkKilledRuns marks the runs still "running" as "interrupted", with no
// end: call it when no process holds the job (job.InUse), so that a run
// whose process was killed shows as killed, not as running since its
// start. (The job's next Open marks them so in the file.)
func (r *Report) MarkKilledRuns() {
	for i := range r.Runs {
		if r.Runs[i].Status == "running" {
			r.Runs[i].Status, r.Runs[i].Ended = "interrupted", nil
		}
	}
}

// A Count is a number of results with some key.
type Count struct {
	Key string `json:"key"`
	N   int64  `json:"n"`
}

// An ErrorKind counts the failures of one kind, with the first of them (by
// input line) as an example.
type ErrorKind struct {
	Kind           string `json:"kind"`
	N              int64  `json:"n"`
	ExampleLine    int64  `json:"example_line"`
	ExampleURL     string `json:"example_url"`
	ExampleMessage string `json:"example_message"`
}

// Latency holds latency statistics in milliseconds over the N results that
// sent a request.
type Latency struct {
	N    int64   `json:"n"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// A LatencyBucket counts the latencies in [LowMS, HighMS).
type LatencyBucket struct {
	LowMS  float64 `json:"low_ms"`
	HighMS float64 `json:"high_ms"`
	N      int64   `json:"n"`
}

// Throughput is the results stored per bucket of time, by their finished
// time, from the bucket of the first result to the bucket of the last.
type Throughput struct {
	// BucketSeconds is the bucket's width: a round duration chosen so that
	// the job's span fills at most MaxBuckets buckets.
	BucketSeconds float64 `json:"bucket_seconds"`
	// First and Last are the finished times of the first and last result.
	First   time.Time    `json:"first"`
	Last    time.Time    `json:"last"`
	Buckets []TimeBucket `json:"buckets"`
}

// MaxBuckets bounds the number of throughput buckets.
const MaxBuckets = 60

// A TimeBucket counts the results stored in [Start, Start + the bucket
// width), and the failed ones among them.
type TimeBucket struct {
	Start  time.Time `json:"start"`
	N      int64     `json:"n"`
	Failed int64     `json:"failed"`
}

// PerSecond is the bucket's rate in results per second.
func (t Throughput) PerSecond(b TimeBucket) float64 {
	if t.BucketSeconds == 0 {
		return 0
	}
	return float64(b.N) / t.BucketSeconds
}

// A Host is one host's share of the job.
type Host struct {
	Host    string `json:"host"`
	Results int64  `json:"results"`
	Failed  int64  `json:"failed"`
	// FailureRatio is Failed / Results.
	FailureRatio float64 `json:"failure_ratio"`
	// MedianMS is the median latency of the host's results that sent a
	// request (0 when none did).
	MedianMS float64 `json:"median_ms"`
}

// Progress returns the share of the inputs stored, from 0 to 1, and false
// when the total is not known yet.
func (r *Report) Progress() (float64, bool) {
	if r.Total == nil {
		return 0, false
	}
	if *r.Total == 0 {
		return 1, true
	}
	return float64(r.Stored) / float64(*r.Total), true
}

// Load computes the report of the job file open as r. It reads in one
// snapshot (job.Reader.Snapshot): a run writing the file meanwhile is not
// seen halfway. The results are scanned five times: for the totals,
// grouped by status, latency bucket and time bucket, grouped by host, and
// sorted twice (by latency for the percentiles, by host and latency for
// the hosts' medians); the failures by kind come through their index.
func Load(ctx context.Context, r *job.Reader) (*Report, error) {
	s, err := r.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the job file: %w", err)
	}
	defer s.Close()
	rep := &Report{}
	steps := []struct {
		what string
		load func(context.Context, *job.Snapshot) error
	}{
		{"meta", rep.loadMeta},
		{"runs", rep.loadRuns},
		{"totals", rep.loadTotals},
		{"statuses, latencies and times", rep.loadGroups},
		{"error kinds", rep.loadErrorKinds},
		{"latency percentiles", rep.loadPercentiles},
		{"hosts", rep.loadHosts},
	}
	for _, st := range steps {
		if err := st.load(ctx, s); err != nil {
			return nil, fmt.Errorf("reading the job file's %s: %w", st.what, err)
		}
	}
	return rep, nil
}

func (r *Report) loadMeta(ctx context.Context, s *job.Snapshot) error {
	m, err := s.Meta(ctx)
	if err != nil {
		return err
	}
	r.Created = m.Created
	if m.Total >= 0 {
		r.Total = &m.Total
	}
	return nil
}

func (r *Report) loadRuns(ctx context.Context, s *job.Snapshot) error {
	runs, err := s.Runs(ctx)
	if err != nil {
		return err
	}
	r.Runs = []Run{}
	for _, jr := range runs {
		run := Run{ID: jr.ID, Started: toMilli(jr.Started), Status: jr.Status}
		if !jr.Ended.IsZero() {
			t := toMilli(jr.Ended)
			run.Ended = &t
		}
		r.Runs = append(r.Runs, run)
	}
	return nil
}

// loadTotals reads the counts and the ranges of latencies and finished
// times in one scan, and sets up the histogram's and the throughput's
// buckets from those ranges.
func (r *Report) loadTotals(ctx context.Context, s *job.Snapshot) error {
	tot, err := s.Totals(ctx)
	if err != nil {
		return err
	}
	r.Stored, r.OK, r.Bytes, r.Retries, r.Latency.N, r.Superseded = tot.Stored, tot.OK, tot.Bytes, tot.Retries, tot.Sent, tot.Superseded
	r.Failed = r.Stored - r.OK
	r.Latency.Max, r.Latency.Mean = tot.MaxMS, round3(tot.MeanMS)
	r.LatencyHistogram = []LatencyBucket{}
	if r.Latency.N > 0 {
		for i := bucketOf(tot.MinMS); i <= bucketOf(tot.MaxMS); i++ {
			r.LatencyHistogram = append(r.LatencyHistogram, LatencyBucket{LowMS: latencyBounds[i], HighMS: latencyBounds[i+1]})
		}
	}
	t := &r.Throughput
	t.Buckets = []TimeBucket{}
	if tot.Stored > 0 {
		first, last := tot.FirstFinished, tot.LastFinished
		t.First, t.Last = unixTime(first), unixTime(last)
		t.BucketSeconds = bucketWidth(last - first)
		start := math.Floor(first/t.BucketSeconds) * t.BucketSeconds
		n := int(math.Floor((last-start)/t.BucketSeconds)) + 1
		for i := range n {
			t.Buckets = append(t.Buckets, TimeBucket{Start: unixTime(start + float64(i)*t.BucketSeconds)})
		}
	}
	return nil
}

// loadGroups counts the results by status, latency bucket and time bucket
// in one scan grouped by all three (and by outcome): a few thousand
// groups at most.
func (r *Report) loadGroups(ctx context.Context, s *job.Snapshot) error {
	r.StatusCodes, r.StatusClasses = []Count{}, []Count{}
	if r.Stored == 0 {
		return nil
	}
	// The latency buckets' upper bounds, but the last's: it holds the
	// rest.
	var bounds []float64
	for _, b := range r.LatencyHistogram[:max(0, len(r.LatencyHistogram)-1)] {
		bounds = append(bounds, b.HighMS)
	}
	t := &r.Throughput
	start := float64(t.Buckets[0].Start.UnixMilli()) / 1000
	groups, err := s.Groups(ctx, job.Buckets{LatencyBounds: bounds, TimeStart: start, TimeWidth: t.BucketSeconds})
	if err != nil {
		return err
	}
	statuses := map[int]int64{}
	for _, g := range groups {
		statuses[g.Status] += g.N
		if g.Latency >= 0 {
			r.LatencyHistogram[g.Latency].N += g.N
		}
		if g.Time < 0 || g.Time >= len(t.Buckets) {
			return fmt.Errorf("a finished time outside %v to %v", t.First, t.Last)
		}
		t.Buckets[g.Time].N += g.N
		if !g.OK {
			t.Buckets[g.Time].Failed += g.N
		}
	}
	classes := map[string]int64{}
	for status, n := range statuses {
		r.StatusCodes = append(r.StatusCodes, Count{strconv.Itoa(status), n})
		classes[fetch.StatusClass(status)] += n
	}
	slices.SortFunc(r.StatusCodes, func(a, b Count) int {
		x, _ := strconv.Atoi(a.Key)
		y, _ := strconv.Atoi(b.Key)
		return x - y
	})
	for class, n := range classes {
		r.StatusClasses = append(r.StatusClasses, Count{class, n})
	}
	// "1xx" < ... < "9xx" < "none"
	slices.SortFunc(r.StatusClasses, func(a, b Count) int { return strings.Compare(a.Key, b.Key) })
	return nil
}

func (r *Report) loadErrorKinds(ctx context.Context, s *job.Snapshot) error {
	kinds, err := s.ErrorKinds(ctx)
	if err != nil {
		return err
	}
	r.ErrorKinds = []ErrorKind{}
	for _, kc := range kinds {
		k := ErrorKind{Kind: kc.Kind, N: kc.N, ExampleLine: int64(kc.Example.Line)}
		var rec struct {
			URL   string `json:"url"`
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(kc.Example.Record, &rec); err != nil {
			return fmt.Errorf("the record of line %d does not parse: %w", kc.Example.Line, err)
		}
		// Every form of the report shows these: never a URL's password.
		k.ExampleURL, k.ExampleMessage = redact.URL(rec.URL), redact.Text(rec.Error.Message)
		r.ErrorKinds = append(r.ErrorKinds, k)
	}
	return nil
}

// latencyBounds are the histogram's bucket boundaries in ms: 1, 2, 5 per
// decade from 1 µs to 10,000 s.
var latencyBounds = func() []float64 {
	var b []float64
	for e := -3; e <= 7; e++ {
		for _, m := range []float64{1, 2, 5} {
			b = append(b, m*math.Pow10(e))
		}
	}
	return b
}()

// bucketOf returns the index of the latency bucket holding ms: the last
// boundary at or below it (the first bucket also holds anything smaller,
// the last anything larger).
func bucketOf(ms float64) int {
	i := 0
	for i+2 < len(latencyBounds) && latencyBounds[i+1] <= ms {
		i++
	}
	return i
}

// loadPercentiles reads the nearest-rank percentiles in one sort.
func (r *Report) loadPercentiles(ctx context.Context, s *job.Snapshot) error {
	n := r.Latency.N
	if n == 0 {
		return nil
	}
	rank := func(q float64) int64 { return max(1, int64(math.Ceil(q*float64(n)))) }
	ms, err := s.Latencies(ctx, rank(0.5), rank(0.9), rank(0.99))
	if err != nil {
		return err
	}
	r.Latency.P50, r.Latency.P90, r.Latency.P99 = ms[rank(0.5)], ms[rank(0.9)], ms[rank(0.99)]
	return nil
}

// bucketWidths are the round throughput bucket widths, in seconds.
var bucketWidths = []float64{1, 2, 5, 10, 15, 30, 60, 2 * 60, 5 * 60, 10 * 60, 15 * 60, 30 * 60,
	3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400}

// bucketWidth returns the smallest round width that cuts span seconds into
// at most MaxBuckets buckets.
func bucketWidth(span float64) float64 {
	for _, w := range bucketWidths {
		if span/w < MaxBuckets {
			return w
		}
	}
	return 86400 * math.Ceil(span/86400/(MaxBuckets-1))
}

func (r *Report) loadHosts(ctx context.Context, s *job.Snapshot) error {
	top, err := s.TopHosts(ctx, TopN)
	if err != nil {
		return err
	}
	list := func(hs []job.HostCount) []Host {
		out := []Host{}
		for _, h := range hs {
			host := Host{Host: h.Host, Results: h.Results, Failed: h.Failed, MedianMS: h.MedianMS}
			if h.Results > 0 {
				host.FailureRatio = round3(float64(h.Failed) / float64(h.Results))
			}
			out = append(out, host)
		}
		return out
	}
	r.BusiestHosts, r.FailingHosts, r.SlowestHosts = list(top.Busiest), list(top.MostFailing), list(top.Slowest)
	return nil
}

// toMilli rounds a time to the millisecond, in UTC.
func toMilli(t time.Time) time.Time { return t.Round(time.Millisecond).UTC() }

// unixTime converts unix seconds to a UTC time, to the millisecond.
func unixTime(sec float64) time.Time {
	return time.UnixMilli(int64(math.Round(sec * 1000))).UTC()
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
