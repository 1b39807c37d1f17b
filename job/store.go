package job

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"
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
	seq      int64 // given by flush
}

// Start starts the job's writer. Store's results are written until Close.
// If writing fails (a full disk), failed, when not nil, is called with the
// error, from the writer's goroutine: the run should stop, even if no
// result comes to Store to report it.
func (j *Job) Start(ctx context.Context, failed func(error)) {
	// A context that is never done: the writer is never interrupted (Close
	// waits for it), and the driver watches a context that can end with a
	// goroutine per statement.
	ctx = context.WithoutCancel(ctx)
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
	case j.results <- stored{rec: rec, finished: unixNow()}:
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
	defer j.w.close(j.db)
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

// insertResults returns the statement inserting n results of run: the
// run is the same for every result of a job, written in the statement
// rather than bound.
func insertResults(n int, run int64) string {
	var b strings.Builder
	b.WriteString("INSERT INTO results(line, seq, run, host, status, error_kind, ok, attempts, ms, bytes, finished, record) VALUES")
	row := fmt.Sprintf("(?,?,%d,?,?,?,?,?,?,?,?,?)", run)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// insertArgs is the number of values bound for each result inserted.
const insertArgs = 11

// insertSizes are the numbers of results one INSERT statement writes,
// largest first: a batch is written 64 results a statement, its rest by
// the smaller statements (a rest of 63 in 9 statements), each prepared
// once for the run. One statement per result spends most of its time in
// the driver, not in SQLite.
var insertSizes = [...]int{64, 16, 4, 1}

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
	j.mu.Lock()
	var replace map[int]bool // lines of this batch whose stored result is replaced
	if len(j.replace) > 0 {
		for _, s := range batch {
			if j.replace[s.rec.Line] {
				if replace == nil {
					replace = map[int]bool{}
				}
				replace[s.rec.Line] = true
			}
		}
	}
	tailAt, tailNext := 0, j.tailNext
	if j.tailAt != 0 {
		for _, s := range batch {
			if s.rec.Line == j.tailAt {
				tailAt = j.tailAt
			}
		}
	}
	j.mu.Unlock()
	// Numbered in the order the results came (seq), inserted in line
	// order: results complete nearly in line order, and rows appended at
	// the end of the table's B-tree cost SQLite the least.
	seq := j.seq
	for i := range batch {
		seq++
		batch[i].seq = seq
	}
	slices.SortFunc(batch, func(a, b stored) int { return cmp.Compare(a.rec.Line, b.rec.Line) })
	conn, err := j.db.Conn(ctx)
	if err != nil {
		return fileError(j.path, err)
	}
	err = conn.Raw(func(dc any) error {
		return j.w.flush(ctx, j, dc.(driver.Conn), batch, replace, tailAt, tailNext, seq)
	})
	if cerr := conn.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fileError(j.path, err)
	}
	j.seq = seq
	j.mu.Lock()
	if tailAt != 0 && j.tailAt == tailAt {
		j.tailAt, j.tailNext = 0, nil
	}
	for l := range replace {
		delete(j.replace, l)
	}
	j.mu.Unlock()
	j.stored += int64(len(batch))
	return nil
}

// A writer is the writer's connection to the job file, as the driver
// sees it, and the statements it prepared on it: they are prepared once
// for the run and run without database/sql, which would convert and copy
// every value bound (11 a result) before the driver binds it.
type writer struct {
	conn  driver.Conn
	stmts map[string]driver.Stmt
	args  []driver.NamedValue
	run   int64
	sizes [len(insertSizes)]string // the insert statements, by insertSizes
}

// exec runs query, prepared once on the writer's connection, with args.
func (w *writer) exec(ctx context.Context, query string, args ...driver.NamedValue) error {
	st, ok := w.stmts[query]
	if !ok {
		var err error
		if st, err = w.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query); err != nil {
			return err
		}
		w.stmts[query] = st
	}
	_, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
	return err
}

// use makes conn the writer's connection: the statements prepared on
// another are dropped (database/sql closed that one, and them with it).
func (w *writer) use(conn driver.Conn, run int64) {
	if w.conn == conn && w.run == run {
		return
	}
	w.conn, w.run, w.stmts = conn, run, map[string]driver.Stmt{}
	for i, n := range insertSizes {
		w.sizes[i] = insertResults(n, run)
	}
}

// close closes the writer's statements, on db's connection if it is still
// the writer's: before the job's database is closed, which would
// otherwise stay open for them (and keep its WAL file).
func (w *writer) close(db *sql.DB) {
	if w.conn == nil {
		return
	}
	ctx := context.Background()
	if conn, err := db.Conn(ctx); err == nil {
		conn.Raw(func(dc any) error {
			if dc == w.conn {
				for _, st := range w.stmts {
					st.Close()
				}
			}
			return nil
		})
		conn.Close()
	}
	w.conn, w.stmts = nil, nil
}

// arg returns the value v bound as parameter n (1-based).
func arg(n int, v driver.Value) driver.NamedValue { return driver.NamedValue{Ordinal: n, Value: v} }

// flush writes batch (in line order, each with its seq) in one
// transaction on conn, with the results' lines past the job's frontier,
// the checkpoint that makes ready, the tail (at the line tailAt, when
// not 0) and seq, the last seq given.
func (w *writer) flush(ctx context.Context, j *Job, conn driver.Conn, batch []stored, replace map[int]bool, tailAt int, tailNext *tail, seq int64) (err error) {
	w.use(conn, j.run)
	if err := w.exec(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// After a failed COMMIT too: SQLite may have kept the
			// transaction open. Its own error, when it has rolled back
			// already, says so.
			w.exec(ctx, "ROLLBACK")
		}
	}()
	all := batch
	for len(batch) > 0 {
		k := 0
		for insertSizes[k] > len(batch) {
			k++
		}
		n := insertSizes[k]
		w.args = slices.Grow(w.args[:0], n*insertArgs)
		for _, s := range batch[:n] {
			r := s.rec
			if j.retry != nil || replace[r.Line] {
				if err := w.exec(ctx, moveToHistory, arg(1, int64(r.Line))); err != nil {
					return err
				}
				if err := w.exec(ctx, "DELETE FROM results WHERE line = ?", arg(1, int64(r.Line))); err != nil {
					return err
				}
			}
			var kind driver.Value
			ok := int64(1)
			if !r.OK {
				kind, ok = r.Kind, 0
			}
			var record string
			if len(r.Record) > 0 {
				// Not copied: the job keeps the record (see Store), and
				// the driver copies it as it binds it.
				record = unsafe.String(&r.Record[0], len(r.Record))
			}
			i := len(w.args)
			w.args = append(w.args,
				arg(i+1, int64(r.Line)), arg(i+2, s.seq), arg(i+3, r.Host), arg(i+4, int64(r.Status)),
				arg(i+5, kind), arg(i+6, ok), arg(i+7, int64(r.Attempts)), arg(i+8, r.MS),
				arg(i+9, r.Bytes), arg(i+10, s.finished), arg(i+11, record))
		}
		if err := w.exec(ctx, w.sizes[k], w.args...); err != nil {
			return err
		}
		batch = batch[n:]
	}
	j.mu.Lock()
	for _, s := range all {
		j.front.set(s.rec.Line)
	}
	j.front.advance()
	var cp *checkpoint
	if r := j.front.ready; r != nil && r.Offset > j.last.Offset {
		cp = r
	}
	j.mu.Unlock()
	if cp != nil {
		b, _ := json.Marshal(cp)
		if err := w.exec(ctx, setMeta, arg(1, "checkpoint"), arg(2, string(b))); err != nil {
			return err
		}
	}
	switch {
	case tailAt != 0 && tailNext != nil:
		b, _ := json.Marshal(tailNext)
		if err := w.exec(ctx, setMeta, arg(1, "tail"), arg(2, string(b))); err != nil {
			return err
		}
	case tailAt != 0:
		if err := w.exec(ctx, "DELETE FROM meta WHERE key = 'tail'"); err != nil {
			return err
		}
	}
	if seq != j.seq {
		// The next seq, kept so that opening a job needs no scan for it.
		if err := w.exec(ctx, setMeta, arg(1, "seq"), arg(2, seq)); err != nil {
			return err
		}
	}
	if err := w.exec(ctx, "COMMIT"); err != nil {
		return err
	}
	if cp != nil {
		j.last = *cp
	}
	return nil
}
