// Package report summarises a gather job file (see package job): how far
// the job got, its outcomes by status and error kind, latency percentiles
// and distribution, throughput over time, the slowest and most failing
// hosts, and the retries it spent.
//
// Load computes a Report with SQL aggregations inside one read
// transaction, so the numbers agree with each other even while a run is
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
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/internal/redact"
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

// querier is what Load needs of a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Load computes the report of the job file open as db (job.OpenReadOnly).
// It reads in one transaction: a run writing the file meanwhile is not
// seen halfway. The results table is scanned five times: for the totals,
// grouped by status, latency bucket and time bucket, grouped by host, and
// sorted twice (by latency for the percentiles, by host and latency for
// the hosts' medians); the failures by kind come through their index.
// Load sets the connection it uses to map the file into memory
// (PRAGMA mmap_size), which makes these scans about twice as fast.
func Load(ctx context.Context, db *sql.DB) (*Report, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the job file: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA mmap_size = 4294967296"); err != nil {
		return nil, fmt.Errorf("reading the job file: %w", err)
	}
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("reading the job file: %w", err)
	}
	defer tx.Rollback()
	r := &Report{}
	steps := []struct {
		what string
		load func(context.Context, querier) error
	}{
		{"meta", r.loadMeta},
		{"runs", r.loadRuns},
		{"totals", r.loadTotals},
		{"statuses, latencies and times", r.loadGroups},
		{"error kinds", r.loadErrorKinds},
		{"latency percentiles", r.loadPercentiles},
		{"hosts", r.loadHosts},
	}
	for _, s := range steps {
		if err := s.load(ctx, tx); err != nil {
			return nil, fmt.Errorf("reading the job file's %s: %w", s.what, err)
		}
	}
	return r, nil
}

func (r *Report) loadMeta(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, "SELECT key, value FROM meta WHERE key IN ('created', 'total')")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var key, value string
		if err := rows.Scan(&key, &value); err != nil {
			return err
		}
		switch key {
		case "created":
			r.Created = value
		case "total":
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil {
				return fmt.Errorf("total %q: not a number", value)
			}
			r.Total = &n
		}
	}
	return rows.Err()
}

func (r *Report) loadRuns(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, "SELECT id, started, ended, status FROM runs ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	r.Runs = []Run{}
	for rows.Next() {
		var run Run
		var started float64
		var ended sql.NullFloat64
		if err := rows.Scan(&run.ID, &started, &ended, &run.Status); err != nil {
			return err
		}
		run.Started = unixTime(started)
		if ended.Valid {
			t := unixTime(ended.Float64)
			run.Ended = &t
		}
		r.Runs = append(r.Runs, run)
	}
	return rows.Err()
}

// loadTotals reads the counts and the ranges of latencies and finished
// times in one scan, and sets up the histogram's and the throughput's
// buckets from those ranges.
func (r *Report) loadTotals(ctx context.Context, q querier) error {
	var lo, hi, mean, first, last sql.NullFloat64
	err := q.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(ok), 0), coalesce(sum(bytes), 0),
		coalesce(sum(attempts - 1) FILTER (WHERE attempts > 0), 0),
		count(*) FILTER (WHERE attempts > 0),
		min(ms) FILTER (WHERE attempts > 0), max(ms) FILTER (WHERE attempts > 0), avg(ms) FILTER (WHERE attempts > 0),
		min(finished), max(finished),
		(SELECT count(*) FROM history)
		FROM results`).Scan(&r.Stored, &r.OK, &r.Bytes, &r.Retries, &r.Latency.N, &lo, &hi, &mean, &first, &last, &r.Superseded)
	if err != nil {
		return err
	}
	r.Failed = r.Stored - r.OK
	r.Latency.Max, r.Latency.Mean = hi.Float64, round3(mean.Float64)
	r.LatencyHistogram = []LatencyBucket{}
	if r.Latency.N > 0 {
		for i := bucketOf(lo.Float64); i <= bucketOf(hi.Float64); i++ {
			r.LatencyHistogram = append(r.LatencyHistogram, LatencyBucket{LowMS: latencyBounds[i], HighMS: latencyBounds[i+1]})
		}
	}
	t := &r.Throughput
	t.Buckets = []TimeBucket{}
	if first.Valid {
		t.First, t.Last = unixTime(first.Float64), unixTime(last.Float64)
		t.BucketSeconds = bucketWidth(last.Float64 - first.Float64)
		start := math.Floor(first.Float64/t.BucketSeconds) * t.BucketSeconds
		n := int(math.Floor((last.Float64-start)/t.BucketSeconds)) + 1
		for i := range n {
			t.Buckets = append(t.Buckets, TimeBucket{Start: unixTime(start + float64(i)*t.BucketSeconds)})
		}
	}
	return nil
}

// loadGroups counts the results by status, latency bucket and time bucket
// in one scan grouped by all three (and by outcome): a few thousand
// groups at most.
func (r *Report) loadGroups(ctx context.Context, q querier) error {
	r.StatusCodes, r.StatusClasses = []Count{}, []Count{}
	if r.Stored == 0 {
		return nil
	}
	// The latency bucket: a CASE over the histogram's boundaries, -1 for
	// results without a latency.
	var hist strings.Builder
	hist.WriteString("CASE WHEN attempts <= 0 THEN -1")
	for i, b := range r.LatencyHistogram[:max(0, len(r.LatencyHistogram)-1)] {
		fmt.Fprintf(&hist, " WHEN ms < %s THEN %d", strconv.FormatFloat(b.HighMS, 'g', -1, 64), i)
	}
	fmt.Fprintf(&hist, " ELSE %d END", len(r.LatencyHistogram)-1)
	t := &r.Throughput
	start := float64(t.Buckets[0].Start.UnixMilli()) / 1000
	rows, err := q.QueryContext(ctx, `SELECT status, `+hist.String()+`, CAST((finished - ?) / ? AS INTEGER), ok, count(*)
		FROM results GROUP BY 1, 2, 3, 4`, start, t.BucketSeconds)
	if err != nil {
		return err
	}
	defer rows.Close()
	statuses := map[int64]int64{}
	for rows.Next() {
		var status, n int64
		var hb, tb int
		var ok bool
		if err := rows.Scan(&status, &hb, &tb, &ok, &n); err != nil {
			return err
		}
		statuses[status] += n
		if hb >= 0 {
			r.LatencyHistogram[hb].N += n
		}
		if tb < 0 || tb >= len(t.Buckets) {
			return fmt.Errorf("a finished time outside %v to %v", t.First, t.Last)
		}
		t.Buckets[tb].N += n
		if !ok {
			t.Buckets[tb].Failed += n
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	classes := map[string]int64{}
	for status, n := range statuses {
		r.StatusCodes = append(r.StatusCodes, Count{strconv.FormatInt(status, 10), n})
		classes[fetch.StatusClass(int(status))] += n
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

func (r *Report) loadErrorKinds(ctx context.Context, q querier) error {
	// SQLite gives bare columns the values of the row where min() is
	// found: the example is the kind's first failure by input line.
	rows, err := q.QueryContext(ctx, `SELECT coalesce(error_kind, ''), count(*), min(line), url,
		coalesce(json_extract(record, '$.error.message'), '')
		FROM results WHERE ok = 0 GROUP BY error_kind ORDER BY count(*) DESC, error_kind`)
	if err != nil {
		return err
	}
	defer rows.Close()
	r.ErrorKinds = []ErrorKind{}
	for rows.Next() {
		var k ErrorKind
		if err := rows.Scan(&k.Kind, &k.N, &k.ExampleLine, &k.ExampleURL, &k.ExampleMessage); err != nil {
			return err
		}
		// Every form of the report shows these: never a URL's password.
		k.ExampleURL, k.ExampleMessage = redact.URL(k.ExampleURL), redact.Text(k.ExampleMessage)
		r.ErrorKinds = append(r.ErrorKinds, k)
	}
	return rows.Err()
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
func (r *Report) loadPercentiles(ctx context.Context, q querier) error {
	n := r.Latency.N
	if n == 0 {
		return nil
	}
	rank := func(q float64) int64 { return max(1, int64(math.Ceil(q*float64(n)))) }
	want := map[int64][]*float64{}
	for _, p := range []struct {
		q float64
		v *float64
	}{{0.5, &r.Latency.P50}, {0.9, &r.Latency.P90}, {0.99, &r.Latency.P99}} {
		want[rank(p.q)] = append(want[rank(p.q)], p.v)
	}
	rows, err := q.QueryContext(ctx, `SELECT rn, ms FROM (
		SELECT ms, row_number() OVER (ORDER BY ms) AS rn FROM results WHERE attempts > 0
	) WHERE rn IN (?, ?, ?)`, rank(0.5), rank(0.9), rank(0.99))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var rn int64
		var ms float64
		if err := rows.Scan(&rn, &ms); err != nil {
			return err
		}
		for _, v := range want[rn] {
			*v = ms
		}
	}
	return rows.Err()
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

// hostsQuery gives every host's results, failures and median latency
// (NULL when none of its results sent a request), then the three top
// lists of them. The counts come from one scan grouped by host, the
// medians from one sort by host and latency. Inputs that never had a
// host (bad input) are left out.
const hostsQuery = `WITH counts AS MATERIALIZED (
	SELECT host, count(*) AS n, sum(ok = 0) AS failed, sum(attempts > 0) AS m
	FROM results WHERE host != '' GROUP BY host
), medians AS MATERIALIZED (
	SELECT host, ms FROM (
		SELECT host, ms, row_number() OVER (PARTITION BY host ORDER BY ms) AS rn
		FROM results WHERE attempts > 0 AND host != ''
	) JOIN counts USING (host) WHERE rn = (m + 1) / 2
), h AS MATERIALIZED (
	SELECT host, n, failed, ms AS median FROM counts LEFT JOIN medians USING (host)
)
SELECT 0, * FROM (SELECT * FROM h ORDER BY n DESC, host LIMIT ?1)
UNION ALL SELECT 1, * FROM (SELECT * FROM h WHERE failed > 0 ORDER BY failed DESC, failed * 1.0 / n DESC, host LIMIT ?1)
UNION ALL SELECT 2, * FROM (SELECT * FROM h WHERE median IS NOT NULL ORDER BY median DESC, host LIMIT ?1)`

func (r *Report) loadHosts(ctx context.Context, q querier) error {
	lists := [3][]Host{{}, {}, {}}
	rows, err := q.QueryContext(ctx, hostsQuery, TopN)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var list int
		var h Host
		var median sql.NullFloat64
		if err := rows.Scan(&list, &h.Host, &h.Results, &h.Failed, &median); err != nil {
			return err
		}
		h.MedianMS = median.Float64
		if h.Results > 0 {
			h.FailureRatio = round3(float64(h.Failed) / float64(h.Results))
		}
		lists[list] = append(lists[list], h)
	}
	r.BusiestHosts, r.FailingHosts, r.SlowestHosts = lists[0], lists[1], lists[2]
	return rows.Err()
}

// unixTime converts unix seconds to a UTC time, to the millisecond.
func unixTime(sec float64) time.Time {
	return time.UnixMilli(int64(math.Round(sec * 1000))).UTC()
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
