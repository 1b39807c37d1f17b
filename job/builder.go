package job

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// A Builder writes a job file row by row, with the runs, times and order
// given: for tools, benchmarks and tests that need a job file of their own
// (a million results, a run killed at a given time, a job as an earlier
// release left it) without running anything. It keeps none of a run's
// guarantees (no lock, no checkpoint, no exactly-once): what it writes is
// the caller's to make consistent. Runs use Open.
type Builder struct {
	path string
	db   *sql.DB
}

// A Row is a stored result as a Builder writes it: the Result, the run
// that stored it and when it finished.
type Row struct {
	Result
	Run      int64
	Finished time.Time
}

// Build creates a new job file at path, which must not exist, with the
// job's tables and when it was created (now), and no settings: Open
// takes its first run's.
func Build(ctx context.Context, path string) (*Builder, error) {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: already exists", path)
	}
	db, err := openWrite(path)
	if err != nil {
		return nil, err
	}
	if err := initSchema(ctx, db); err != nil {
		db.Close()
		return nil, fileError(path, err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES('key', ?)", makeKey()); err != nil {
		db.Close()
		return nil, fileError(path, err)
	}
	return &Builder{path: path, db: db}, nil
}

// Rebuild opens an existing job file, which no run may have open, to
// change it with a Builder (to make it look as an earlier release or a
// killed run left it, in a test). It is refused as Open refuses it: not a
// job, or damaged.
func Rebuild(ctx context.Context, path string) (*Builder, error) {
	r, err := OpenReader(ctx, path)
	if err != nil {
		return nil, err
	}
	r.Close()
	db, err := openWrite(path)
	if err != nil {
		return nil, err
	}
	return &Builder{path: path, db: db}, nil
}

// Close closes the file.
func (b *Builder) Close() error { return fileError(b.path, b.db.Close()) }

// SetMeta sets a key of the meta table (see the package comment), such as
// "total".
func (b *Builder) SetMeta(ctx context.Context, key, value string) error {
	_, err := b.db.ExecContext(ctx, setMeta, key, value)
	return fileError(b.path, err)
}

// DeleteMeta removes keys of the meta table.
func (b *Builder) DeleteMeta(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if _, err := b.db.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", k); err != nil {
			return fileError(b.path, err)
		}
	}
	return nil
}

// SetSettings stores settings as the job's, as given: keyed (or, with
// Legacy, named by their Name, as job files of schema version 1 stored
// them), their values as they are (a secret in clear stays in clear, as
// an earlier release kept it).
func (b *Builder) SetSettings(ctx context.Context, settings []Setting, legacy bool) error {
	st := make([]storedSetting, len(settings))
	for i, s := range keyed(settings) {
		st[i] = storedSetting{Key: s.Key, Value: s.Value}
		if legacy {
			st[i] = storedSetting{Name: s.Name, Value: s.Value}
		}
	}
	text, _ := json.Marshal(st)
	return b.SetMeta(ctx, "settings", string(text))
}

// AddRun adds a row of the runs table; Ended zero is a run still running
// (or killed). Settings "" is stored as "{}".
func (b *Builder) AddRun(ctx context.Context, r Run) error {
	var ended any
	if !r.Ended.IsZero() {
		ended = toUnix(r.Ended)
	}
	settings := r.Settings
	if settings == "" {
		settings = "{}"
	}
	_, err := b.db.ExecContext(ctx, "INSERT INTO runs(id, started, ended, status, settings) VALUES(?, ?, ?, ?, ?)",
		r.ID, toUnix(r.Started), ended, r.Status, settings)
	return fileError(b.path, err)
}

// AddResults stores rows in the results table in one transaction,
// numbering them (seq) after the results stored, in the order given. A
// line that has a result already is an error.
func (b *Builder) AddResults(ctx context.Context, rows ...Row) error {
	return b.insert(ctx, "results", rows)
}

// AddHistory stores rows in the history table (earlier results, replaced
// by a later run) in one transaction.
func (b *Builder) AddHistory(ctx context.Context, rows ...Row) error {
	return b.insert(ctx, "history", rows)
}

// DeleteResults removes the results of the lines after line.
func (b *Builder) DeleteResults(ctx context.Context, after int) error {
	_, err := b.db.ExecContext(ctx, "DELETE FROM results WHERE line > ?", after)
	return fileError(b.path, err)
}

func (b *Builder) insert(ctx context.Context, table string, rows []Row) error {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return fileError(b.path, err)
	}
	defer tx.Rollback()
	var seq int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM "+table).Scan(&seq); err != nil {
		return fileError(b.path, err)
	}
	query := `INSERT INTO results(line, seq, run, host, status, error_kind, ok, attempts, ms, bytes, finished, record)
			VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	if table == "history" {
		query = `INSERT INTO history(line, seq, run, status, error_kind, ok, attempts, ms, finished, record)
			VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	}
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fileError(b.path, err)
	}
	defer stmt.Close()
	for _, r := range rows {
		seq++
		var kind any
		ok := 1
		if !r.OK {
			kind, ok = r.Kind, 0
		}
		if table == "results" {
			_, err = stmt.ExecContext(ctx, r.Line, seq, r.Run, r.Host, r.Status, kind, ok,
				r.Attempts, r.MS, r.Bytes, toUnix(r.Finished), string(r.Record))
		} else {
			_, err = stmt.ExecContext(ctx, r.Line, seq, r.Run, r.Status, kind, ok, r.Attempts, r.MS, toUnix(r.Finished), string(r.Record))
		}
		if err != nil {
			return fmt.Errorf("%s: storing line %d in %s: %w", b.path, r.Line, table, err)
		}
	}
	if seq > 0 && table == "results" {
		if _, err := tx.ExecContext(ctx, setMeta, "seq", seq); err != nil {
			return fileError(b.path, err)
		}
	}
	return fileError(b.path, tx.Commit())
}
