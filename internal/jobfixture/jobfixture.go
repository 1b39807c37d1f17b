// Package jobfixture builds gather job files (see package job) for tests,
// scripts and benchmarks, without running a fetch: a file is created with
// job.Build, and runs, results and history rows are added through the
// job.Builder as gather fetch --job stores them, each result with its
// record as gather fetch writes it.
//
//	db, err := jobfixture.Create(ctx, "crawl.db") // a *job.Builder
//	err = jobfixture.AddRun(ctx, db, jobfixture.Run{ID: 1, Started: t0, Ended: t1, Status: "done"})
//	err = jobfixture.Add(ctx, db, jobfixture.Result{Line: 1, Run: 1, URL: "http://h/a", Status: 200, ...})
//
// Synthetic writes a realistic job of any size (a million results take
// about half a minute).
package jobfixture

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/job"
)

// A Result is one input's outcome, as stored in the results table (or,
// with AddHistory, in the history table).
type Result struct {
	Line     int
	Run      int
	URL      string
	Method   string // GET when empty
	Status   int
	Kind     fetch.Kind // empty: success
	Message  string     // the error message, with Kind
	Attempts int
	MS       float64
	Bytes    int64
	Finished float64 // unix seconds
}

// Record returns r as the record gather fetch writes.
func (r Result) Record() fetch.Record {
	rec := fetch.Record{
		Line: r.Line, URL: r.URL, Method: r.method(), Status: r.Status,
		Attempts: r.Attempts, MS: r.MS, Bytes: r.Bytes,
	}
	if r.Kind != "" {
		rec.Error = &fetch.Error{Kind: r.Kind, Message: r.Message}
	}
	if r.Status != 0 && r.Bytes >= 0 {
		rec.SHA256 = fmt.Sprintf("%064x", r.Line*2654435761+r.Status)
		rec.ContentType = "text/html; charset=utf-8"
	}
	for i := 1; i < r.Attempts; i++ {
		rec.Retries = append(rec.Retries, fetch.Attempt{Status: 503, WaitMS: 100 * float64(i)})
	}
	return rec
}

func (r Result) method() string {
	if r.Method == "" {
		return "GET"
	}
	return r.Method
}

// host is the results table's host column, as gather fetch --job stores
// it.
func host(u string) string { return fetch.HostOf(u) }

// A Run is a row of the runs table.
type Run struct {
	ID      int
	Started float64 // unix seconds
	Ended   float64 // unix seconds; 0 while running
	Status  string
}

// Create creates a new job file at path, which must not exist, and returns
// it open for writing (job.Build).
func Create(ctx context.Context, path string) (*job.Builder, error) {
	return job.Build(ctx, path)
}

// SetMeta sets a meta key, such as "total".
func SetMeta(ctx context.Context, b *job.Builder, key, value string) error {
	return b.SetMeta(ctx, key, value)
}

// AddRun inserts a row of the runs table.
func AddRun(ctx context.Context, b *job.Builder, r Run) error {
	run := job.Run{ID: int64(r.ID), Started: unix(r.Started), Status: r.Status}
	if r.Ended != 0 {
		run.Ended = unix(r.Ended)
	}
	return b.AddRun(ctx, run)
}

// Add inserts results in one transaction, numbering them (seq) after the
// results already stored, in the order given.
func Add(ctx context.Context, b *job.Builder, results ...Result) error {
	rows, err := jobRows(results)
	if err != nil {
		return err
	}
	return b.AddResults(ctx, rows...)
}

// AddHistory inserts superseded results into the history table.
func AddHistory(ctx context.Context, b *job.Builder, results ...Result) error {
	rows, err := jobRows(results)
	if err != nil {
		return err
	}
	return b.AddHistory(ctx, rows...)
}

// jobRows returns results as a job stores them.
func jobRows(results []Result) ([]job.Row, error) {
	rows := make([]job.Row, len(results))
	for i, r := range results {
		rec, err := json.Marshal(r.Record())
		if err != nil {
			return nil, err
		}
		rows[i] = job.Row{
			Result: job.Result{Line: r.Line, OK: r.Kind == "", Kind: string(r.Kind), Host: host(r.URL), Status: r.Status,
				Attempts: r.Attempts, MS: r.MS, Bytes: r.Bytes, Record: rec},
			Run:      int64(r.Run),
			Finished: unix(r.Finished),
		}
	}
	return rows, nil
}

// unix converts unix seconds to a time, to the microsecond (as a job
// stores times).
func unix(sec float64) time.Time {
	return time.UnixMicro(int64(math.Round(sec * 1e6))).UTC()
}

// Synthetic writes a realistic job of n results to a new file at path:
// two runs (the first interrupted, the second running), 40 hosts of
// different speeds and failure modes, statuses and error kinds in
// plausible proportions, retries, results superseded by the second run,
// and a total of inputs a little above n (the run is not finished). The
// same n and seed give the same file.
func Synthetic(ctx context.Context, path string, n int, seed uint64) (err error) {
	db, err := Create(ctx, path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	g := newGenerator(n, seed)
	if err := SetMeta(ctx, db, "total", strconv.Itoa(g.total)); err != nil {
		return err
	}
	const batch = 64 * 800 // whole blocks of shuffled lines
	var history []Result
	for start := 0; start < n; start += batch {
		rs, hs := g.results(start, min(start+batch, n))
		if err := Add(ctx, db, rs...); err != nil {
			return err
		}
		history = append(history, hs...)
	}
	if len(history) > 0 {
		if err := AddHistory(ctx, db, history...); err != nil {
			return err
		}
	}
	for _, r := range g.runs() {
		if err := AddRun(ctx, db, r); err != nil {
			return err
		}
	}
	return nil
}
