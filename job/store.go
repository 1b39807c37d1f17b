package job

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Results are written in batches, one transaction each (WAL mode, synced
// to disk at each commit), every batchEvery or every batchMax results,
// whichever comes first; a result is therefore on disk at most about
// batchEvery after it completed, and an interruption loses at most the
// results of the batch being written (their inputs run again on resume).
const (
	batchEvery = 200 * time.Millisecond
	batchMax   = 4096
)

// A Result is one input's outcome as a job stores it: a neutral envelope
// of the columns the job's queries select on, around the record's JSON,
// the same for every kind of work (a fetch record, a flow's output).
type Result struct {
	Line     int     // the input's 1-based line (record) number
	OK       bool    // the work succeeded
	Kind     string  // the error kind when not OK; Canceled is never stored
	Host     string  // the host the work went to ("" for none)
	Status   int     // the final status (0 for none)
	Attempts int     // attempts made (0 when nothing was sent)
	MS       float64 // the time it took, in milliseconds
	Bytes    int64   // the size of what came back
	Record   []byte  // the record as JSON, exactly as sinks write it
}

// Canceled is the error kind of an input whose work was stopped before it
// finished: not a result, never stored; the input runs again on resume.
const Canceled = "canceled"

// A stored result, with when it finished.
type stored struct {
	rec      Result
	finished float64
}

// Start starts the job's writer. Store's results are written until Close.
// If writing fails (a full disk), failed, when not nil, is called with the
// error, from the writer's goroutine: the run should stop, even if no
// result comes to Store to report it.
func (j *Job) Start(ctx context.Context, failed func(error)) {
	ctx, j.stop = context.WithCancel(context.WithoutCancel(ctx))
	j.results = make(chan stored, batchMax)
	j.done = make(chan struct{})
	go func() {
		defer close(j.done)
		j.werr = j.write(ctx)
		if j.werr != nil && failed != nil {
			failed(j.werr)
		}
	}()
}

// Store queues a result to be stored. A result of kind Canceled (an input
// whose work was stopped) is not stored: the input runs again on resume.
// Store returns the writer's error once it has failed (a full disk, for
// example); the run should then stop. The job keeps rec.Record: the caller
// must not change it afterwards.
func (j *Job) Store(rec Result) error {
	if !rec.OK && rec.Kind == Canceled {
		return nil
	}
	select {
	case j.results <- stored{rec, unixNow()}:
		return nil
	case <-j.done:
		return j.werr
	}
}

// Close stores the results queued, notes the run's end (status "done" when
// the input was read to its end and every result stored, else
// "interrupted"), closes the file and releases its lock. It returns the
// writer's error if storing failed.
//
// Close may be called more than once; later calls do nothing.
func (j *Job) Close() error {
	if j.closed {
		return nil
	}
	j.closed = true
	if j.results != nil {
		close(j.results)
		<-j.done
		j.stop()
	}
	err := j.werr
	j.mu.Lock()
	complete := j.read && j.front.next > j.lastRead
	j.mu.Unlock()
	if j.db != nil {
		status := "interrupted"
		switch {
		case err != nil:
			status = "failed"
		case complete:
			status = "done"
		}
		ctx := context.Background()
		if _, uerr := j.db.ExecContext(ctx, "UPDATE runs SET ended = ?, status = ? WHERE id = ?", unixNow(), status, j.run); uerr != nil && err == nil {
			err = fileError(j.path, uerr)
		}
		if j.read && err == nil {
			if _, uerr := j.db.ExecContext(ctx, setMeta, "total", fmt.Sprint(j.records)); uerr != nil {
				err = fileError(j.path, uerr)
			}
		}
		if err == nil {
			// The final figures, the last batch included: Progress
			// returns them once the job is closed, without opening it
			// (and checking it whole) again.
			p, perr := j.Progress(ctx)
			if perr != nil {
				err = perr
			} else {
				j.final = &p
			}
		}
	}
	if cerr := j.closeFiles(); cerr != nil && err == nil {
		err = fileError(j.path, cerr)
	}
	if err == nil {
		closedCleanly(j.path)
	}
	return err
}

// write is the writer: it batches results into transactions until the
// results channel is closed, or a write fails.
func (j *Job) write(ctx context.Context) error {
	batch := make([]stored, 0, batchMax)
	tick := time.NewTicker(batchEvery)
	defer tick.Stop()
	for {
		select {
		case s, ok := <-j.results:
			if !ok {
				return j.flush(ctx, batch)
			}
			batch = append(batch, s)
			if len(batch) < batchMax {
				continue
			}
		case <-tick.C:
		}
		if err := j.flush(ctx, batch); err != nil {
			return err
		}
		batch = batch[:0]
	}
}

// insertResults returns the statement inserting n results.
func insertResults(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO results(line, seq, run, host, status, error_kind, ok, attempts, ms, bytes, finished, record) VALUES")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	return b.String()
}

// rowsPerInsert is how many results one INSERT statement writes: one
// statement per result spends most of its time in database/sql and the
// driver, not in SQLite.
const rowsPerInsert = 64

var (
	insertMany = insertResults(rowsPerInsert)
	insertOne  = insertResults(1)
)

// setMeta sets a key of the meta table.
const setMeta = "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"

// moveToHistory keeps a result about to be replaced.
const moveToHistory = `INSERT INTO history(line, seq, run, status, error_kind, ok, attempts, ms, finished, record)
SELECT line, seq, run, status, error_kind, ok, attempts, ms, finished, record FROM results WHERE line = ?`

// flush writes a batch and the checkpoint it makes possible in one
// transaction.
func (j *Job) flush(ctx context.Context, batch []stored) error {
	if len(batch) == 0 {
		// Nothing to store; a checkpoint may still be ready (the records
		// past the last stored were skipped as done).
		j.mu.Lock()
		r := j.front.ready
		j.mu.Unlock()
		if r == nil || r.Offset <= j.last.Offset {
			return nil
		}
	}
	lines := make([]int, 0, len(batch))
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fileError(j.path, err)
	}
	defer tx.Rollback()
	j.mu.Lock()
	replace := map[int]bool{} // lines of this batch whose stored result is replaced
	for _, s := range batch {
		if j.replace[s.rec.Line] {
			replace[s.rec.Line] = true
		}
	}
	tailAt, tailNext := 0, j.tailNext
	for _, s := range batch {
		if j.tailAt != 0 && s.rec.Line == j.tailAt {
			tailAt = j.tailAt
		}
	}
	j.mu.Unlock()
	var move, del *sql.Stmt
	if j.retry != nil || len(replace) > 0 {
		if move, err = tx.PrepareContext(ctx, moveToHistory); err != nil {
			return fileError(j.path, err)
		}
		defer move.Close()
		if del, err = tx.PrepareContext(ctx, "DELETE FROM results WHERE line = ?"); err != nil {
			return fileError(j.path, err)
		}
		defer del.Close()
	}
	args := make([]any, 0, 12*rowsPerInsert)
	var many *sql.Stmt
	for len(batch) > 0 {
		n := min(len(batch), rowsPerInsert)
		if n < rowsPerInsert {
			n = 1
		}
		args = args[:0]
		for _, s := range batch[:n] {
			r := s.rec
			if j.retry != nil || replace[r.Line] {
				if _, err := move.ExecContext(ctx, r.Line); err != nil {
					return fileError(j.path, err)
				}
				if _, err := del.ExecContext(ctx, r.Line); err != nil {
					return fileError(j.path, err)
				}
			}
			var kind any
			ok := 1
			if !r.OK {
				kind, ok = r.Kind, 0
			}
			j.seq++
			args = append(args, r.Line, j.seq, j.run, r.Host, r.Status, kind, ok, r.Attempts, r.MS, r.Bytes, s.finished, string(r.Record))
		}
		query := insertOne
		if n == rowsPerInsert {
			if many == nil {
				if many, err = tx.PrepareContext(ctx, insertMany); err != nil {
					return fileError(j.path, err)
				}
				defer many.Close()
			}
			_, err = many.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, query, args...)
		}
		if err != nil {
			return fileError(j.path, err)
		}
		for _, s := range batch[:n] {
			lines = append(lines, s.rec.Line)
		}
		batch = batch[n:]
	}
	j.mu.Lock()
	for _, l := range lines {
		j.front.set(l)
	}
	j.front.advance()
	var cp *checkpoint
	if r := j.front.ready; r != nil && r.Offset > j.last.Offset {
		cp = r
	}
	j.mu.Unlock()
	if cp != nil {
		b, _ := json.Marshal(cp)
		if _, err := tx.ExecContext(ctx, setMeta, "checkpoint", string(b)); err != nil {
			return fileError(j.path, err)
		}
	}
	switch {
	case tailAt != 0 && tailNext != nil:
		b, _ := json.Marshal(tailNext)
		if _, err := tx.ExecContext(ctx, setMeta, "tail", string(b)); err != nil {
			return fileError(j.path, err)
		}
	case tailAt != 0:
		if _, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = 'tail'"); err != nil {
			return fileError(j.path, err)
		}
	}
	if len(lines) > 0 {
		// The next seq, kept so that opening a job needs no scan for it.
		if _, err := tx.ExecContext(ctx, setMeta, "seq", j.seq); err != nil {
			return fileError(j.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fileError(j.path, err)
	}
	if cp != nil {
		j.last = *cp
	}
	j.mu.Lock()
	if tailAt != 0 && j.tailAt == tailAt {
		j.tailAt, j.tailNext = 0, nil
	}
	for l := range replace {
		delete(j.replace, l)
	}
	j.mu.Unlock()
	j.stored += int64(len(lines))
	return nil
}
