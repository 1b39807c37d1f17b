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
// seen halfway.
func Load(ctx context.Context, db *sql.DB) (*Report, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
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
		{"outcomes", r.loadOutcomes},
		{"statuses", r.loadStatuses},
		{"error kinds", r.loadErrorKinds},
		{"latency", r.loadLatency},
		{"throughput", r.loadThroughput},
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

func (r *Report) loadOutcomes(ctx context.Context, q querier) error {
	err := q.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(ok), 0), coalesce(sum(bytes), 0),
		coalesce((SELECT sum(attempts - 1) FROM results WHERE attempts > 0), 0),
		(SELECT count(*) FROM history)
		FROM results`).Scan(&r.Stored, &r.OK, &r.Bytes, &r.Retries, &r.Superseded)
	r.Failed = r.Stored - r.OK
	return err
}

func (r *Report) loadStatuses(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, "SELECT status, count(*) FROM results GROUP BY status ORDER BY status")
	if err != nil {
		return err
	}
	defer rows.Close()
	r.StatusCodes, r.StatusClasses = []Count{}, []Count{}
	classes := map[string]int64{}
	for rows.Next() {
		var status, n int64
		if err := rows.Scan(&status, &n); err != nil {
			return err
		}
		r.StatusCodes = append(r.StatusCodes, Count{strconv.FormatInt(status, 10), n})
		classes[StatusClass(status)] += n
	}
	for class, n := range classes {
		r.StatusClasses = append(r.StatusClasses, Count{class, n})
	}
	// "1xx" < ... < "9xx" < "none"
	slices.SortFunc(r.StatusClasses, func(a, b Count) int { return strings.Compare(a.Key, b.Key) })
	return rows.Err()
}

// StatusClass returns a status's class as gather fetch's summary names
// it: "2xx" for 200 to 299, "none" for 0 (no response).
func StatusClass(status int64) string {
	if status <= 0 {
		return "none"
	}
	return strconv.FormatInt(status/100, 10) + "xx"
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

func (r *Report) loadLatency(ctx context.Context, q querier) error {
	var lo, hi, mean sql.NullFloat64
	if err := q.QueryRowContext(ctx, "SELECT count(*), min(ms), max(ms), avg(ms) FROM results WHERE attempts > 0").
		Scan(&r.Latency.N, &lo, &hi, &mean); err != nil {
		return err
	}
	r.LatencyHistogram = []LatencyBucket{}
	n := r.Latency.N
	if n == 0 {
		return nil
	}
	r.Latency.Max, r.Latency.Mean = hi.Float64, round3(mean.Float64)
	// The percentiles in one sort: nearest ranks.
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
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()

	// The histogram: the buckets from the smallest latency's to the
	// largest's, counted by a CASE over their boundaries.
	first, last := bucketOf(lo.Float64), bucketOf(hi.Float64)
	var cases strings.Builder
	cases.WriteString("CASE")
	for i := first; i < last; i++ {
		fmt.Fprintf(&cases, " WHEN ms < %s THEN %d", strconv.FormatFloat(latencyBounds[i+1], 'g', -1, 64), i)
	}
	fmt.Fprintf(&cases, " ELSE %d END", last)
	counts := make([]int64, len(latencyBounds))
	rows, err = q.QueryContext(ctx, "SELECT "+cases.String()+" AS b, count(*) FROM results WHERE attempts > 0 GROUP BY b")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b int
		var c int64
		if err := rows.Scan(&b, &c); err != nil {
			return err
		}
		counts[b] = c
	}
	for i := first; i <= last; i++ {
		r.LatencyHistogram = append(r.LatencyHistogram, LatencyBucket{latencyBounds[i], latencyBounds[i+1], counts[i]})
	}
	return rows.Err()
}

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

func (r *Report) loadThroughput(ctx context.Context, q querier) error {
	r.Throughput.Buckets = []TimeBucket{}
	var first, last sql.NullFloat64
	if err := q.QueryRowContext(ctx, "SELECT min(finished), max(finished) FROM results").Scan(&first, &last); err != nil {
		return err
	}
	if !first.Valid {
		return nil
	}
	t := &r.Throughput
	t.First, t.Last = unixTime(first.Float64), unixTime(last.Float64)
	t.BucketSeconds = bucketWidth(last.Float64 - first.Float64)
	start := math.Floor(first.Float64/t.BucketSeconds) * t.BucketSeconds
	n := int(math.Floor((last.Float64-start)/t.BucketSeconds)) + 1
	for i := range n {
		t.Buckets = append(t.Buckets, TimeBucket{Start: unixTime(start + float64(i)*t.BucketSeconds)})
	}
	rows, err := q.QueryContext(ctx, `SELECT CAST((finished - ?) / ? AS INTEGER) AS b, count(*), sum(ok = 0)
		FROM results GROUP BY b ORDER BY b`, start, t.BucketSeconds)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b int
		var c, failed int64
		if err := rows.Scan(&b, &c, &failed); err != nil {
			return err
		}
		if b < 0 || b >= n {
			return fmt.Errorf("a finished time outside %v to %v", t.First, t.Last)
		}
		t.Buckets[b].N, t.Buckets[b].Failed = c, failed
	}
	return rows.Err()
}

// hostsQuery counts results and failures per host; inputs that never
// had a host (bad input) are left out.
const hostsQuery = `SELECT host, count(*) AS n, sum(ok = 0) AS failed FROM results WHERE host != '' GROUP BY host`

func (r *Report) loadHosts(ctx context.Context, q querier) error {
	var err error
	if r.BusiestHosts, err = scanHosts(ctx, q, hostsQuery+" ORDER BY n DESC, host LIMIT ?", TopN); err != nil {
		return err
	}
	if r.FailingHosts, err = scanHosts(ctx, q, hostsQuery+" HAVING failed > 0 ORDER BY failed DESC, failed * 1.0 / n DESC, host LIMIT ?", TopN); err != nil {
		return err
	}
	// The medians of every host in one sort by host and latency; the
	// results and failures of the slowest hosts are counted afterwards.
	rows, err := q.QueryContext(ctx, `SELECT host, ms FROM (
		SELECT host, ms, row_number() OVER (PARTITION BY host ORDER BY ms) AS rn,
			count(*) OVER (PARTITION BY host) AS n
		FROM results WHERE attempts > 0 AND host != ''
	) WHERE rn = (n + 1) / 2 ORDER BY ms DESC, host LIMIT ?`, TopN)
	if err != nil {
		return err
	}
	defer rows.Close()
	var slow []string
	median := map[string]float64{}
	for rows.Next() {
		var host string
		var ms float64
		if err := rows.Scan(&host, &ms); err != nil {
			return err
		}
		slow = append(slow, host)
		median[host] = ms
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	if r.SlowestHosts, err = hostsNamed(ctx, q, slow); err != nil {
		return err
	}
	// The medians of the busiest and most failing hosts not among them.
	var others []string
	for _, h := range slices.Concat(r.BusiestHosts, r.FailingHosts) {
		if _, ok := median[h.Host]; !ok && !slices.Contains(others, h.Host) {
			others = append(others, h.Host)
		}
	}
	if len(others) > 0 {
		rows, err := q.QueryContext(ctx, `SELECT host, ms FROM (
			SELECT host, ms, row_number() OVER (PARTITION BY host ORDER BY ms) AS rn,
				count(*) OVER (PARTITION BY host) AS n
			FROM results WHERE attempts > 0 AND host IN (`+placeholders(len(others))+`)
		) WHERE rn = (n + 1) / 2`, anys(others)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var host string
			var ms float64
			if err := rows.Scan(&host, &ms); err != nil {
				return err
			}
			median[host] = ms
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, list := range [][]Host{r.BusiestHosts, r.FailingHosts, r.SlowestHosts} {
		for i := range list {
			list[i].MedianMS = median[list[i].Host]
		}
	}
	return nil
}

// hostsNamed returns the counts of the hosts named, in that order.
func hostsNamed(ctx context.Context, q querier, names []string) ([]Host, error) {
	if len(names) == 0 {
		return []Host{}, nil
	}
	found, err := scanHosts(ctx, q, `SELECT host, count(*), sum(ok = 0) FROM results
		WHERE host IN (`+placeholders(len(names))+`) GROUP BY host`, anys(names)...)
	if err != nil {
		return nil, err
	}
	hosts := make([]Host, 0, len(names))
	for _, name := range names {
		if i := slices.IndexFunc(found, func(h Host) bool { return h.Host == name }); i >= 0 {
			hosts = append(hosts, found[i])
		}
	}
	return hosts, nil
}

func scanHosts(ctx context.Context, q querier, query string, args ...any) ([]Host, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	hosts := []Host{}
	for rows.Next() {
		var h Host
		if err := rows.Scan(&h.Host, &h.Results, &h.Failed); err != nil {
			return nil, err
		}
		if h.Results > 0 {
			h.FailureRatio = round3(float64(h.Failed) / float64(h.Results))
		}
		hosts = append(hosts, h)
	}
	return hosts, rows.Err()
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func anys(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}

// unixTime converts unix seconds to a UTC time, to the millisecond.
func unixTime(sec float64) time.Time {
	return time.UnixMilli(int64(math.Round(sec * 1000))).UTC()
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
