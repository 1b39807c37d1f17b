package job

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gogather/gather/internal/jobhook"
	"modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ApplicationID marks a SQLite file as a gather job file (PRAGMA
// application_id): "gath" in ASCII.
const ApplicationID = 0x67617468

// SchemaVersion is the job file's schema version (PRAGMA user_version).
// Version 2 keys the settings (Setting.Key) and keeps a result's host as
// "scheme://host:port". A file of version 1 is read as it is (OpenReader)
// and migrated by the next Open (see migrate); a file of another version
// is refused, never altered.
const SchemaVersion = 2

// oldestVersion is the oldest schema version that Open migrates.
const oldestVersion = 1

// schema creates a job file's tables. It is documented in the package
// comment; keep the two in step.
const schema = `
PRAGMA application_id = 1734440040;
PRAGMA user_version = 2;
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;
CREATE TABLE runs (
	id       INTEGER PRIMARY KEY,
	started  REAL NOT NULL,
	ended    REAL,
	status   TEXT NOT NULL,
	settings TEXT NOT NULL
) STRICT;
CREATE TABLE results (
	line       INTEGER PRIMARY KEY,
	seq        INTEGER NOT NULL,
	run        INTEGER NOT NULL REFERENCES runs(id),
	host       TEXT NOT NULL,
	status     INTEGER NOT NULL,
	error_kind TEXT,
	ok         INTEGER NOT NULL,
	attempts   INTEGER NOT NULL,
	ms         REAL NOT NULL,
	bytes      INTEGER NOT NULL,
	finished   REAL NOT NULL,
	record     TEXT NOT NULL,
	url        TEXT GENERATED ALWAYS AS (record ->> '$.url') VIRTUAL,
	method     TEXT GENERATED ALWAYS AS (record ->> '$.method') VIRTUAL
) STRICT;
CREATE INDEX results_failed ON results(line) WHERE ok = 0;
CREATE TABLE history (
	line       INTEGER NOT NULL,
	seq        INTEGER NOT NULL,
	run        INTEGER NOT NULL,
	status     INTEGER NOT NULL,
	error_kind TEXT,
	ok         INTEGER NOT NULL,
	attempts   INTEGER NOT NULL,
	ms         REAL NOT NULL,
	finished   REAL NOT NULL,
	record     TEXT NOT NULL
) STRICT;
CREATE INDEX history_line ON history(line);
`

func init() {
	if ApplicationID != 1734440040 {
		panic("job: ApplicationID and the schema disagree")
	}
}

// ErrNotJob is the error of a file that is not a gather job file: not
// SQLite at all, or a SQLite database of something else.
var ErrNotJob = errors.New("not a gather job file")

// ErrDamaged is the error of a job file that SQLite cannot read.
var ErrDamaged = errors.New("the job file is damaged")

// jobPageSize is the page size of a new job file. Results are appended
// to the results table in batches: with pages of 16 KiB rather than
// SQLite's 4 KiB, a batch writes a quarter of the WAL frames (two write
// calls each) and checkpoints as many pages, and splits a quarter of the
// B-tree pages; the writer spends about an eighth less CPU a result
// (BenchmarkStore). Any SQLite, and every release of gather, reads any
// page size.
const jobPageSize = 16384

// dsn returns the driver's data source name for path.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	if readOnly {
		q.Set("mode", "ro")
	} else {
		// The page size of a new job file (applied before WAL mode: the
		// driver runs the _pragma values before the _journal_mode key);
		// a job file's pages keep the size they were made with.
		q.Add("_pragma", fmt.Sprintf("page_size(%d)", jobPageSize))
		q.Set("_journal_mode", "WAL")
		q.Add("_pragma", "synchronous(FULL)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// escapePath escapes a file's path for a "file:" URI.
func escapePath(path string) string { return (&url.URL{Path: path}).EscapedPath() }

// verify runs SQLite's quick_check over db (the structure of every page
// and index, without comparing indexes with their tables: about 1.5 s of
// CPU for a job of a million results, 317 MB) and returns an error
// wrapping ErrDamaged with the first problem found. With a budget above
// zero, a check that has not ended within it is given up, unfinished,
// and verify returns nil: see Open.
func verify(ctx context.Context, db *sql.DB, path string, budget time.Duration) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fileError(path, err)
	}
	defer conn.Close()
	// Read through a mapping: a third less CPU than reading page by page.
	if _, err := conn.ExecContext(ctx, "PRAGMA mmap_size = 4294967296"); err != nil {
		return fileError(path, err)
	}
	qctx := ctx
	if budget > 0 {
		var cancel context.CancelFunc
		qctx, cancel = context.WithTimeout(ctx, budget)
		defer cancel()
	}
	if jobhook.Check != nil {
		jobhook.Check(path, budget == 0)
	}
	var first string
	err = conn.QueryRowContext(qctx, "PRAGMA quick_check(1)").Scan(&first)
	if err != nil && ctx.Err() == nil && qctx.Err() != nil {
		return nil // the budget was spent
	}
	if err == nil && first == "ok" {
		return nil
	}
	if err == nil {
		// "*** in database main ***\nTree 4 page 4: ...": one line.
		first = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(first), "*** in database main ***"))
		err = errors.New(strings.Join(strings.Fields(first), " "))
	}
	return fmt.Errorf("%s: %w: SQLite's check found: %v; it was left as it is (sqlite3's .recover may save its results)", path, ErrDamaged, err)
}

// damaged turns an error of reading a job file that SQLite found
// malformed (a page met only now, past the checks made when the file was
// opened) into one wrapping ErrDamaged, naming the file; other errors are
// returned as they are.
func damaged(path string, err error) error {
	if err == nil || errors.Is(err, ErrDamaged) {
		return err
	}
	if code := sqliteCode(err); code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB {
		return fmt.Errorf("%s: %w: %v; it was left as it is (sqlite3's .recover may save its results)", path, ErrDamaged, err)
	}
	return err
}

// sqliteCode returns SQLite's primary result code of err, or 0.
func sqliteCode(err error) int {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		return se.Code() & 0xff
	}
	return 0
}

// check reports whether db is a job file of this schema version, or an
// empty database (fresh is then true).
func check(ctx context.Context, db *sql.DB, path string) (fresh bool, err error) {
	var app, version int
	if err := db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&app); err != nil {
		return false, fmt.Errorf("%s: %w (%v)", path, ErrNotJob, err)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return false, fmt.Errorf("%s: %w (%v)", path, ErrNotJob, err)
	}
	var tables int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		if se, ok := errors.AsType[*sqlite.Error](err); ok && se.Code() == sqlite3.SQLITE_READONLY_ROLLBACK {
			return false, fmt.Errorf("%s: a transaction was cut short (by a killed process) and must be rolled back from %s-journal: run gather fetch --job %s once to roll it back", path, path, path)
		}
		if app == ApplicationID {
			return false, fmt.Errorf("%s: %w: SQLite cannot read it (%v); it was left as it is (sqlite3's .recover may save its results)", path, ErrDamaged, err)
		}
		return false, fmt.Errorf("%s: %w (%v)", path, ErrNotJob, err)
	}
	switch {
	case app == 0 && version == 0 && tables == 0:
		return true, nil
	case app != ApplicationID:
		return false, fmt.Errorf("%s: %w: a SQLite database of another application", path, ErrNotJob)
	case version < oldestVersion || version > SchemaVersion:
		return false, fmt.Errorf("%s: a job file of schema version %d; this gather reads versions %d to %d", path, version, oldestVersion, SchemaVersion)
	}
	return false, nil
}

// migrateHosts is the migration of the results' hosts from version 1
// ("host[:port]" as written in the URL) to version 2
// ("scheme://host:port", the scheme from the URL, a default port made
// explicit, in lower case as fetch.HostOf gives it); hosts migrated already, and results without a host or a URL
// of http or https, are left as they are.
const migrateHosts = `UPDATE results SET host = lower(substr(url, 1, instr(url, '://') - 1)) || '://' || lower(host) ||
	CASE WHEN host GLOB '*:[0-9]*' AND host NOT GLOB '*]' THEN ''
	     WHEN lower(substr(url, 1, 8)) = 'https://' THEN ':443'
	     ELSE ':80' END
WHERE host != '' AND instr(host, '://') = 0 AND (lower(substr(url, 1, 7)) = 'http://' OR lower(substr(url, 1, 8)) = 'https://')`

// migrate brings a job file of an earlier schema version to this one, in
// one transaction: the hosts of its results (migrateHosts) and its
// version. Open calls it once the run's settings matched the job's (and
// were stored again by key): a refused run changes nothing.
func migrate(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version == SchemaVersion {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migrateHosts); err != nil {
		return fmt.Errorf("migrating the results' hosts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// schemeHost returns the host of a result of version 2 for the URL u and
// its "host[:port]" as version 1 kept it, as migrateHosts does: host as it
// is for a URL that is not http or https.
func schemeHost(u, host string) string {
	if host == "" || strings.Contains(host, "://") {
		return host
	}
	scheme, _, ok := strings.Cut(u, "://")
	scheme, host = strings.ToLower(scheme), strings.ToLower(host) // as fetch.HostOf
	if !ok || scheme != "http" && scheme != "https" {
		return host
	}
	if i := strings.LastIndexByte(host, ':'); i < 0 || strings.HasSuffix(host, "]") || i == len(host)-1 || host[i+1] < '0' || host[i+1] > '9' {
		if scheme == "https" {
			return scheme + "://" + host + ":443"
		}
		return scheme + "://" + host + ":80"
	}
	return scheme + "://" + host
}

// initSchema creates the job file's tables in db, an empty database, and
// records when the job was created.
func initSchema(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("creating the job file's tables: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES('created', ?)", time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	return tx.Commit()
}

// OpenWrite opens (creating it if needed) the SQLite file at path for
// writing, in WAL mode with full synchronisation. It does not check or
// create the schema; Open does.
func openWrite(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises writes anyway
	return db, nil
}
