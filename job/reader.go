package job

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// A Reader is a job file open for reading (export, report, tests),
// alongside a run that may be writing it. It never changes the file.
// Every read is one SQLite read transaction: a run writing the file
// meanwhile is never seen halfway; a Snapshot holds one transaction over
// several queries. A malformed page met while reading is an error
// wrapping ErrDamaged, naming the file.
//
// A Reader may be used from several goroutines.
type Reader struct {
	path string
	db   *sql.DB
}

// OpenReader opens an existing job file for reading. It fails with an
// error wrapping ErrNotJob for a file that is not a job file (or not a
// regular file), and ErrDamaged for one that SQLite's quick_check finds
// damaged; it never changes the file. A job file of an earlier schema
// version is read as it is (its next Open migrates it).
//
// With the option AfterClose, the whole-file check is skipped when this
// process's Close of a Job on path ended without an error and the file
// is, by its identity, size and modification time, as Close left it.
func OpenReader(ctx context.Context, path string, opts ...ReadOption) (*Reader, error) {
	var o readOptions
	for _, opt := range opts {
		opt(&o)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, fi); err != nil {
		return nil, err
	}
	// Before SQLite opens it (a reader of a WAL file makes its -wal).
	trusted := o.afterClose && unchangedSinceClose(path)
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, err
	}
	fresh, err := check(ctx, db, path)
	if err == nil && fresh {
		err = fmt.Errorf("%s: %w: an empty database", path, ErrNotJob)
	}
	if err == nil && !trusted {
		err = verify(ctx, db, path, 0)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Reader{path: path, db: db}, nil
}

// Close closes the file. Results' iterators must be done first.
func (r *Reader) Close() error { return r.db.Close() }

// Path returns the job file's path, as given to OpenReader.
func (r *Reader) Path() string { return r.path }

// err turns an error of reading into one naming the file, wrapping
// ErrDamaged for a malformed page.
func (r *Reader) err(err error) error {
	if err == nil {
		return nil
	}
	if d := damaged(r.path, err); errors.Is(d, ErrDamaged) {
		return d
	}
	return fmt.Errorf("%s: %w", r.path, err)
}

// Results returns the stored results matching f (nil: every result), in
// input (line) order, each with its record's JSON. The results are those
// stored when the iteration started. An error ends the iteration: it is
// yielded with a zero Result.
func (r *Reader) Results(ctx context.Context, f *Filter) iter.Seq2[Result, error] {
	return r.results(ctx, f, "line")
}

// ResultsAsStored is Results in the order the results were stored (their
// seq), rather than by line.
func (r *Reader) ResultsAsStored(ctx context.Context, f *Filter) iter.Seq2[Result, error] {
	return r.results(ctx, f, "seq")
}

func (r *Reader) results(ctx context.Context, f *Filter, order string) iter.Seq2[Result, error] {
	return func(yield func(Result, error) bool) {
		where, args := f.where()
		rows, err := r.db.QueryContext(ctx, "SELECT line, ok, coalesce(error_kind, ''), host, status, attempts, ms, bytes, record FROM results WHERE "+where+" ORDER BY "+order, args...)
		if err != nil {
			yield(Result{}, r.err(err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var res Result
			if err := rows.Scan(&res.Line, &res.OK, &res.Kind, &res.Host, &res.Status, &res.Attempts, &res.MS, &res.Bytes, &res.Record); err != nil {
				yield(Result{}, r.err(err))
				return
			}
			if !yield(res, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(Result{}, r.err(err))
		}
	}
}

// Progress counts the job's results (Skipped and New are 0: they are a
// run's).
func (r *Reader) Progress(ctx context.Context) (Progress, error) {
	var p Progress
	err := r.read(ctx, func(s *Snapshot) (err error) {
		p, err = s.Progress(ctx)
		return err
	})
	return p, err
}

// Meta returns the job's meta table, read.
func (r *Reader) Meta(ctx context.Context) (Meta, error) {
	var m Meta
	err := r.read(ctx, func(s *Snapshot) (err error) {
		m, err = s.Meta(ctx)
		return err
	})
	return m, err
}

// Runs returns the job's runs, oldest first.
func (r *Reader) Runs(ctx context.Context) ([]Run, error) {
	var runs []Run
	err := r.read(ctx, func(s *Snapshot) (err error) {
		runs, err = s.Runs(ctx)
		return err
	})
	return runs, err
}

// read runs f in a snapshot.
func (r *Reader) read(ctx context.Context, f func(*Snapshot) error) error {
	s, err := r.Snapshot(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	return f(s)
}

// A Snapshot is one read transaction over a job file: every query of it
// sees the file as it was when the snapshot began, whatever a run writes
// meanwhile. Its connection maps the file into memory (PRAGMA mmap_size),
// which makes the scans of a big job about twice as fast. A Snapshot is
// for one goroutine; Close ends it.
type Snapshot struct {
	r    *Reader
	conn *sql.Conn
	tx   *sql.Tx
}

// Snapshot begins a read transaction.
func (r *Reader) Snapshot(ctx context.Context) (*Snapshot, error) {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return nil, r.err(err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA mmap_size = 4294967296"); err != nil {
		conn.Close()
		return nil, r.err(err)
	}
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		conn.Close()
		return nil, r.err(err)
	}
	return &Snapshot{r: r, conn: conn, tx: tx}, nil
}

// Close ends the snapshot.
func (s *Snapshot) Close() error {
	s.tx.Rollback()
	return s.conn.Close()
}

// Meta is what a job's meta table says, read.
type Meta struct {
	// Created is when the job was created (RFC 3339), "" if not recorded.
	Created string
	// Total is the number of input records, -1 until a run read the
	// input to its end.
	Total int64
	// Settings are the job's settings as stored, keyed (those of an
	// earlier release mapped to keys), their secrets hashed; Name is the
	// flag that earlier releases stored for a key, else the key.
	Settings []Setting
	// Values holds every key of the meta table with its value as stored
	// (documented in the package comment), for tools and tests that look
	// further.
	Values map[string]string
}

// Meta reads the meta table.
func (s *Snapshot) Meta(ctx context.Context) (Meta, error) {
	m := Meta{Total: -1, Values: map[string]string{}}
	rows, err := s.tx.QueryContext(ctx, "SELECT key, value FROM meta")
	if err != nil {
		return m, s.r.err(err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, value string
		if err := rows.Scan(&key, &value); err != nil {
			return m, s.r.err(err)
		}
		m.Values[key] = value
	}
	if err := rows.Err(); err != nil {
		return m, s.r.err(err)
	}
	m.Created = m.Values["created"]
	if v, ok := m.Values["total"]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return m, fmt.Errorf("%s: the job's total %q is not a number", s.r.path, v)
		}
		m.Total = n
	}
	if v, ok := m.Values["settings"]; ok {
		var err error
		if m.Settings, err = parseSettings(v); err != nil {
			return m, fmt.Errorf("%s: %w", s.r.path, err)
		}
	}
	return m, nil
}

// A Run is one run of a command on a job: a row of the runs table.
type Run struct {
	ID      int64
	Started time.Time
	// Ended is zero while the run is running, and for a run whose process
	// was killed.
	Ended time.Time
	// Status is "running", "done", "interrupted" or "failed". A run
	// "running" while no process holds the job (InUse) was killed.
	Status string
	// Settings are every setting of the run, as JSON (secrets masked).
	Settings string
}

// Runs reads the runs table, oldest first.
func (s *Snapshot) Runs(ctx context.Context) ([]Run, error) {
	rows, err := s.tx.QueryContext(ctx, "SELECT id, started, ended, status, settings FROM runs ORDER BY id")
	if err != nil {
		return nil, s.r.err(err)
	}
	defer rows.Close()
	runs := []Run{}
	for rows.Next() {
		var run Run
		var started float64
		var ended sql.NullFloat64
		if err := rows.Scan(&run.ID, &started, &ended, &run.Status, &run.Settings); err != nil {
			return nil, s.r.err(err)
		}
		run.Started = fromUnix(started)
		if ended.Valid {
			run.Ended = fromUnix(ended.Float64)
		}
		runs = append(runs, run)
	}
	return runs, s.r.err(rows.Err())
}

// Progress counts the job's results (Skipped and New are 0: they are a
// run's).
func (s *Snapshot) Progress(ctx context.Context) (Progress, error) {
	p, err := progressOf(ctx, s.tx)
	return p, s.r.err(err)
}

// Totals are figures over every stored result.
type Totals struct {
	Stored  int64 // results stored
	OK      int64 // of which without an error
	Bytes   int64 // their bytes, summed
	Retries int64 // their attempts beyond the first, summed
	// Sent is the number of results that sent a request (attempts > 0):
	// those with a latency. MinMS, MaxMS and MeanMS are over them (0 when
	// none).
	Sent                 int64
	MinMS, MaxMS, MeanMS float64
	// FirstFinished and LastFinished are the earliest and latest
	// finished times, in unix seconds as stored (0 when no result).
	FirstFinished, LastFinished float64
	// Superseded is the number of earlier results that a later run
	// replaced (the history table's rows).
	Superseded int64
}

// Totals computes the totals in one scan of the results.
func (s *Snapshot) Totals(ctx context.Context) (Totals, error) {
	var t Totals
	var lo, hi, mean, first, last sql.NullFloat64
	err := s.tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(ok), 0), coalesce(sum(bytes), 0),
		coalesce(sum(attempts - 1) FILTER (WHERE attempts > 0), 0),
		count(*) FILTER (WHERE attempts > 0),
		min(ms) FILTER (WHERE attempts > 0), max(ms) FILTER (WHERE attempts > 0), avg(ms) FILTER (WHERE attempts > 0),
		min(finished), max(finished),
		(SELECT count(*) FROM history)
		FROM results`).Scan(&t.Stored, &t.OK, &t.Bytes, &t.Retries, &t.Sent, &lo, &hi, &mean, &first, &last, &t.Superseded)
	if err != nil {
		return t, s.r.err(err)
	}
	t.MinMS, t.MaxMS, t.MeanMS = lo.Float64, hi.Float64, mean.Float64
	t.FirstFinished, t.LastFinished = first.Float64, last.Float64
	return t, nil
}

// Buckets says how Groups buckets the results: by latency, below each
// bound of LatencyBounds in turn (the last bucket holding the rest), and
// by finished time, in buckets of TimeWidth seconds from TimeStart (unix
// seconds).
type Buckets struct {
	LatencyBounds []float64
	TimeStart     float64
	TimeWidth     float64
}

// A Group counts the results of one status, latency bucket, time bucket
// and outcome.
type Group struct {
	Status int
	// Latency is the index of the latency bucket: the first bound of
	// Buckets.LatencyBounds that the result's ms is below, or
	// len(LatencyBounds) for none; -1 for a result that sent no request.
	Latency int
	// Time is the index of the time bucket of the result's finished time.
	Time int
	OK   bool
	N    int64
}

// Groups counts the results by status, latency bucket, time bucket and
// outcome, in one scan: a few thousand groups at most.
func (s *Snapshot) Groups(ctx context.Context, b Buckets) ([]Group, error) {
	if b.TimeWidth <= 0 {
		return nil, fmt.Errorf("job: Groups: a time bucket width of %v", b.TimeWidth)
	}
	var hist strings.Builder
	hist.WriteString("CASE WHEN attempts <= 0 THEN -1")
	for i, bound := range b.LatencyBounds {
		fmt.Fprintf(&hist, " WHEN ms < %s THEN %d", strconv.FormatFloat(bound, 'g', -1, 64), i)
	}
	fmt.Fprintf(&hist, " ELSE %d END", len(b.LatencyBounds))
	rows, err := s.tx.QueryContext(ctx, `SELECT status, `+hist.String()+`, CAST((finished - ?) / ? AS INTEGER), ok, count(*)
		FROM results GROUP BY 1, 2, 3, 4`, b.TimeStart, b.TimeWidth)
	if err != nil {
		return nil, s.r.err(err)
	}
	defer rows.Close()
	var groups []Group
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.Status, &g.Latency, &g.Time, &g.OK, &g.N); err != nil {
			return nil, s.r.err(err)
		}
		groups = append(groups, g)
	}
	return groups, s.r.err(rows.Err())
}

// A KindCount counts the failed results of one error kind, with the first
// of them by input line as an example.
type KindCount struct {
	Kind    string
	N       int64
	Example Result
}

// ErrorKinds counts the failed results by error kind, most first (then by
// kind), through the index of the failures.
func (s *Snapshot) ErrorKinds(ctx context.Context) ([]KindCount, error) {
	// SQLite gives bare columns the values of the row where min() is
	// found: the example is the kind's first failure by input line.
	rows, err := s.tx.QueryContext(ctx, `SELECT coalesce(error_kind, ''), count(*), min(line), host, status, attempts, ms, bytes, record
		FROM results WHERE ok = 0 GROUP BY error_kind ORDER BY count(*) DESC, error_kind`)
	if err != nil {
		return nil, s.r.err(err)
	}
	defer rows.Close()
	kinds := []KindCount{}
	for rows.Next() {
		var k KindCount
		e := &k.Example
		if err := rows.Scan(&k.Kind, &k.N, &e.Line, &e.Host, &e.Status, &e.Attempts, &e.MS, &e.Bytes, &e.Record); err != nil {
			return nil, s.r.err(err)
		}
		e.Kind = k.Kind
		kinds = append(kinds, k)
	}
	return kinds, s.r.err(rows.Err())
}

// Latencies returns the latencies (ms) at the given ranks among the
// results that sent a request, sorted by latency (rank 1: the fastest),
// in one sort; ranks out of range are left out of the map.
func (s *Snapshot) Latencies(ctx context.Context, ranks ...int64) (map[int64]float64, error) {
	out := map[int64]float64{}
	if len(ranks) == 0 {
		return out, nil
	}
	args := make([]any, len(ranks))
	for i, r := range ranks {
		args[i] = r
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT rn, ms FROM (
		SELECT ms, row_number() OVER (ORDER BY ms) AS rn FROM results WHERE attempts > 0
	) WHERE rn IN (?`+strings.Repeat(", ?", len(ranks)-1)+`)`, args...)
	if err != nil {
		return nil, s.r.err(err)
	}
	defer rows.Close()
	for rows.Next() {
		var rn int64
		var ms float64
		if err := rows.Scan(&rn, &ms); err != nil {
			return nil, s.r.err(err)
		}
		out[rn] = ms
	}
	return out, s.r.err(rows.Err())
}

// A HostCount is one host's share of the results.
type HostCount struct {
	Host    string
	Results int64
	Failed  int64
	// MedianMS is the median latency of the host's results that sent a
	// request (nearest rank); HasMedian is false when none did.
	MedianMS  float64
	HasMedian bool
}

// TopHosts are the hosts with the most results, the most failures and the
// highest median latency.
type TopHosts struct {
	Busiest     []HostCount // by results, then host
	MostFailing []HostCount // hosts with failures, by failures, then failure ratio, then host
	Slowest     []HostCount // hosts with a median, by median, then host
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

// TopHosts returns up to n hosts in each list. Results without a host
// (bad inputs) are left out.
func (s *Snapshot) TopHosts(ctx context.Context, n int) (TopHosts, error) {
	lists := [3][]HostCount{{}, {}, {}}
	rows, err := s.tx.QueryContext(ctx, hostsQuery, n)
	if err != nil {
		return TopHosts{}, s.r.err(err)
	}
	defer rows.Close()
	for rows.Next() {
		var list int
		var h HostCount
		var median sql.NullFloat64
		if err := rows.Scan(&list, &h.Host, &h.Results, &h.Failed, &median); err != nil {
			return TopHosts{}, s.r.err(err)
		}
		h.MedianMS, h.HasMedian = median.Float64, median.Valid
		lists[list] = append(lists[list], h)
	}
	return TopHosts{Busiest: lists[0], MostFailing: lists[1], Slowest: lists[2]}, s.r.err(rows.Err())
}

// fromUnix converts unix seconds as stored (to the microsecond) to a UTC
// time.
func fromUnix(sec float64) time.Time {
	return time.UnixMicro(int64(math.Round(sec * 1e6))).UTC()
}

// toUnix converts a time to unix seconds as stored.
func toUnix(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }
