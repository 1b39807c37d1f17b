package job

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gogather/gather/internal/redact"
	sqlite3 "modernc.org/sqlite/lib"
)

// A Setting is one setting that defines a job's results: a stable Key
// ("url_template"), stored in the job, what a message calls it (Name:
// the flag, "--url") and its value. A job keeps the settings it was
// created with, and a later run with another value of any of them is
// refused: its results would not be comparable. Settings that only change
// the pace (concurrency, rates, per-host limits) are not Settings.
//
// Keys are compared, never names: a flag may be renamed without making
// existing jobs refuse their runs. Jobs made before settings had keys
// stored the flags' names, which Open maps to keys (see the package
// comment).
type Setting struct {
	// Key names the setting in the job file; it must never change. When
	// empty, Name is the key.
	Key string
	// Name is what a message calls the setting (its flag); when empty,
	// the key.
	Name  string
	Value string
	// Headers says Value is HTTP header lines ("Name: value", one a
	// line): the job keeps the value of each sensitive one (see
	// internal/redact.SensitiveHeader) as a keyed hash (HMAC-SHA256 under
	// a random key of the job's), and a mismatch never shows it.
	Headers bool
	// URLs says Value may hold URLs ("scheme://user:password@host",
	// "scheme://token@host"): the job keeps the secret of each URL's
	// userinfo as a keyed hash, as for Headers, and the rest in clear; a
	// mismatch shows the values with the secrets masked (redact), and
	// says when only a secret differs.
	URLs bool
}

// ErrLocked is the error of a job file that another process has open.
var ErrLocked = errors.New("in use by another gather process")

// ErrSettings is the error of a run whose settings differ from the job's.
var ErrSettings = errors.New("the job was made with other settings")

// A Job is a job file open for one run. It is not safe for concurrent use,
// except that Store may be called from any one goroutine while the input is
// read in another.
type Job struct {
	path  string
	lock  *os.File
	db    *sql.DB
	run   int64
	retry *Filter
	id    string // see ID

	cp      checkpoint // as stored when the run began
	results chan stored
	w       writer        // the writer's connection and statements
	done    chan struct{} // closed when the writer has ended
	werr    error         // the writer's error, once done is closed

	tail *tail // the job's unterminated last record, as stored when the run began

	mu    sync.Mutex // guards front, last, tailAt, tailNext and replace
	front frontier
	last  checkpoint // the newest checkpoint stored
	// The transaction storing the result of line tailAt (when not 0)
	// stores tailNext as the job's tail, or deletes it when nil.
	tailAt   int
	tailNext *tail
	replace  map[int]bool // lines whose stored result is to be replaced

	seq      int64 // results stored by this and earlier runs (the writer's)
	stored   int64 // results stored by this run (the writer's)
	skipped  int64 // inputs skipped, their result stored (the reader's)
	records  int64 // input records read, skipped ones included (the reader's)
	closed   bool
	final    *Progress // the final figures, once Close ended without an error
	read     bool      // the input was read to its end
	lastRead int       // then, its last line
}

// tail is the meta table's "tail": the input's last record when it ended
// without a newline (lines may be appended to it later), so that a resumed
// run sees whether that line was changed by what was appended.
type tail struct {
	Line   int    `json:"line"`   // the record's first line
	End    int64  `json:"end"`    // the input's size, where the record ended
	SHA256 string `json:"sha256"` // of the input's first End bytes
}

// checkpoint is the meta table's "checkpoint": every input record ending
// within the first Offset bytes (Line lines) has its result stored.
type checkpoint struct {
	Line    int    `json:"line"`
	Offset  int64  `json:"offset"`
	SHA256  string `json:"sha256"`  // of those bytes
	Records int64  `json:"records"` // the records among them
}

// Open opens the job file at path for a run, creating it if it does not
// exist, and locks it: a second process gets an error wrapping ErrLocked.
// A path that is neither a regular file nor a new path (a device such as
// /dev/null, a FIFO, a directory) or a file that is not a job file is
// refused (ErrNotJob); a damaged job file (ErrDamaged, checked with
// SQLite's quick_check before anything is written) and a job made with
// other settings (ErrSettings, naming the first that differs) too; each is
// left byte for byte as it is. The check is whole when the job's last run
// did not end cleanly; otherwise it stops after 2.5 s, so that a
// big job resumes in a few seconds on a busy machine (export and report,
// through OpenReader, always check the whole file). runSettings, every setting of the run as
// JSON, is kept in the runs table. Runs that a killed process left
// "running" are marked "interrupted".
//
// A new job file is created and initialised under a temporary name in its
// directory, then linked into place: a process killed at any instant
// leaves either no file or a whole job file.
func Open(ctx context.Context, path string, settings []Setting, runSettings any) (*Job, error) {
	lock, err := lockPath(ctx, path, settings)
	if err != nil {
		return nil, err
	}
	j := &Job{path: path, lock: lock}
	if err := j.open(ctx, settings, runSettings); err != nil {
		j.closeFiles()
		return nil, err
	}
	return j, nil
}

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

func (j *Job) open(ctx context.Context, settings []Setting, runSettings any) error {
	head := make([]byte, len(sqliteMagic))
	n, _ := io.ReadFull(j.lock, head)
	if n > 0 && string(head[:n]) != sqliteMagic {
		return fmt.Errorf("%s: %w: not a SQLite database; it was left as it is", j.path, ErrNotJob)
	}
	if n > 0 {
		if err := rollbackJournal(ctx, j.path); err != nil {
			return err
		}
	}
	// Check the file before the write connection's pragmas (WAL mode)
	// touch it: a foreign or damaged database is left exactly as it is.
	ro, err := sql.Open("sqlite", dsn(j.path, true))
	if err != nil {
		return err
	}
	fresh, err := check(ctx, ro, j.path)
	if err == nil && !fresh {
		err = j.verify(ctx, ro)
	}
	ro.Close()
	if err != nil {
		return err
	}
	db, err := openWrite(j.path)
	if err != nil {
		return err
	}
	j.db = db
	if fresh {
		// An empty SQLite database (an empty file, or one made by another
		// tool): made a job in place. A kill meanwhile leaves a hot
		// journal, rolled back by the next Open.
		if err := initJob(ctx, db, settings); err != nil {
			return fileError(j.path, err)
		}
	}
	if err := j.settings(ctx, settings); err != nil {
		return err
	}
	if err := migrate(ctx, db); err != nil {
		return fileError(j.path, err)
	}
	var cp sql.NullString
	err = db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'checkpoint'").Scan(&cp)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fileError(j.path, err)
	}
	if cp.Valid {
		if err := json.Unmarshal([]byte(cp.String), &j.cp); err != nil {
			return fmt.Errorf("%s: the job's checkpoint does not parse: %w", j.path, err)
		}
	}
	j.last = j.cp
	var tl sql.NullString
	err = db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'tail'").Scan(&tl)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fileError(j.path, err)
	}
	if tl.Valid {
		j.tail = new(tail)
		if err := json.Unmarshal([]byte(tl.String), j.tail); err != nil {
			return fmt.Errorf("%s: the job's tail does not parse: %w", j.path, err)
		}
	}
	// The last seq stored is in meta (a scan of a big results table for
	// max(seq) would take seconds).
	err = db.QueryRowContext(ctx, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'").Scan(&j.seq)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM results").Scan(&j.seq)
	}
	if err != nil {
		return fileError(j.path, err)
	}
	// This process holds the job's lock: a run still "running" is one
	// whose process was killed.
	if _, err := db.ExecContext(ctx, "UPDATE runs SET status = 'interrupted' WHERE status = 'running'"); err != nil {
		return fileError(j.path, err)
	}
	// Kept for reading: the password of any URL in it is masked.
	full, _ := json.Marshal(runSettings)
	res, err := db.ExecContext(ctx, "INSERT INTO runs(started, status, settings) VALUES(?, 'running', ?)", unixNow(), redact.Text(string(full)))
	if err != nil {
		return fileError(j.path, err)
	}
	j.run, _ = res.LastInsertId()
	return nil
}

// verifyBudget bounds the check of a job file whose last run ended
// cleanly (see Open). A job whose last run did not end cleanly is checked
// whole, however long it takes. A variable for the tests.
var verifyBudget = 2500 * time.Millisecond

// verify checks the job file (see verify): whole when a run did not end
// cleanly (a run still "running": its process was killed, or the machine
// stopped), else within verifyBudget, so that resuming a big job starts
// in a few seconds (a million results take about 1.5 s on a quiet
// machine: checked whole).
func (j *Job) verify(ctx context.Context, ro *sql.DB) error {
	var unclean int
	err := ro.QueryRowContext(ctx, "SELECT count(*) FROM runs WHERE status = 'running'").Scan(&unclean)
	if err != nil {
		return fileError(j.path, err)
	}
	budget := verifyBudget
	if unclean > 0 {
		budget = 0
	}
	return verify(ctx, ro, j.path, budget)
}

// settings compares the run's settings with the job's, and stores the
// job's again with their secrets hashed when an earlier release stored
// them in clear (or when the job has none: it was killed before it had
// any, and takes the run's).
func (j *Job) settings(ctx context.Context, settings []Setting) error {
	db := j.db
	var key string
	newKey := false
	err := db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'key'").Scan(&key)
	if errors.Is(err, sql.ErrNoRows) {
		key, newKey, err = makeKey(), true, nil // a job of an earlier release
	}
	if err != nil {
		return fileError(j.path, err)
	}
	var had string
	err = db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'settings'").Scan(&had)
	if errors.Is(err, sql.ErrNoRows) {
		had, _ = jsonSettings(settings, key)
		_, err = db.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES('settings', ?)", had)
	}
	if err != nil {
		return fileError(j.path, err)
	}
	old, err := parseSettings(had)
	if err != nil {
		return fmt.Errorf("%s: %w", j.path, err)
	}
	settings = keyed(settings)
	headers, urls := headerSettings(settings), urlSettings(settings)
	oldMasked := masked(old, headers, urls, key)
	if err := compare(oldMasked, masked(settings, headers, urls, key), headers, urls); err != nil {
		return fmt.Errorf("%s: %w", j.path, err)
	}
	j.id = jobID(key)
	// Written once the settings match: a refused run changes nothing.
	if newKey {
		if _, err := db.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES('key', ?)", key); err != nil {
			return fileError(j.path, err)
		}
	}
	// Stored by key, their secrets hashed (a job of an earlier release
	// kept flags' names, or secrets in clear).
	if b := storeSettings(oldMasked); b != had {
		if _, err := db.ExecContext(ctx, setMeta, "settings", b); err != nil {
			return fileError(j.path, err)
		}
	}
	return nil
}

// compare returns an ErrSettings error naming the first setting whose value
// differs; a setting absent from one side counts as empty. Settings are
// matched by key and named by the run's names (now). Settings keyed in
// headers are header lines, compared without showing a secret; those
// keyed in urls (masked by maskURLs) are shown with their secrets masked.
func compare(old, now []Setting, headers, urls map[string]bool) error {
	values := map[string]string{}
	for _, s := range old {
		values[s.Key] = s.Value
	}
	seen := map[string]bool{}
	show := func(v string) string {
		if v == "" {
			return "(none)"
		}
		return fmt.Sprintf("%q", showURLs(v))
	}
	const hint = "settings that change results cannot change within a job (use a new job file)"
	for _, s := range now {
		seen[s.Key] = true
		was := values[s.Key]
		switch {
		case was == s.Value:
		case headers[s.Key]:
			return fmt.Errorf("%w: %s; %s", ErrSettings, headersDiffer(s.Name, was, s.Value), hint)
		case urls[s.Key] && showURLs(was) == showURLs(s.Value):
			return fmt.Errorf("%w: %s differs (a secret: neither is shown); %s", ErrSettings, s.Name, hint)
		default:
			return fmt.Errorf("%w: %s was %s, this run has %s; %s", ErrSettings, s.Name, show(was), show(s.Value), hint)
		}
	}
	for _, s := range old {
		switch {
		case seen[s.Key] || s.Value == "":
		case headers[s.Key] || strings.Contains(s.Value, hashedPrefix):
			return fmt.Errorf("%w: %s; %s", ErrSettings, headersDiffer(s.Name, s.Value, ""), hint)
		default:
			return fmt.Errorf("%w: %s was %s, this run has none; %s", ErrSettings, s.Name, show(s.Value), hint)
		}
	}
	return nil
}

// fileError adds the job file's name and, for the errors a user can act
// on, what to do.
func fileError(path string, err error) error {
	if err == nil {
		return nil
	}
	code := sqliteCode(err) // the primary result code, from an extended one
	switch {
	case code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB:
		return damaged(path, err)
	case code == sqlite3.SQLITE_FULL || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG):
		return fmt.Errorf("%s: %w: the disk is full (or the file size limit reached); what was stored is kept: free some space and run the same command again", path, err)
	case code == sqlite3.SQLITE_IOERR:
		return fmt.Errorf("%s: %w: a write failed: the disk is full, the file size limit reached, or the device failing; what was stored is kept: run the same command again once there is room", path, err)
	case code == sqlite3.SQLITE_READONLY:
		return fmt.Errorf("%s: %w: the job file (or its directory) is read-only", path, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func unixNow() float64 { return float64(time.Now().UnixMicro()) / 1e6 }

// ID returns the job's identifier: 16 hex digits, derived from the job's
// random key (one way: the ID tells nothing of the key), the same for every
// run of the job and different for every job file made, even from the same
// command. A cluster names the job's streams by it.
func (j *Job) ID() string { return j.id }

// jobID derives a job's ID from its key.
func jobID(key string) string {
	sum := sha256.Sum256([]byte("gather job id\x00" + key))
	return hex.EncodeToString(sum[:8])
}

// Progress is what a job holds.
type Progress struct {
	Stored  int64 // inputs with a stored result, in all
	Failed  int64 // of which failed
	Total   int64 // the input's records, -1 until the input was read to its end
	Skipped int64 // inputs this run skipped: their result was stored already
	New     int64 // results this run stored
}

// Progress counts the job's results. Call it after Close for the final
// figures: a job that Close closed without an error keeps them, and
// returns them without opening the file again.
func (j *Job) Progress(ctx context.Context) (Progress, error) {
	if j.db == nil && j.final != nil {
		return *j.final, nil
	}
	if j.db == nil {
		r, err := OpenReader(ctx, j.path)
		if err != nil {
			return Progress{Total: -1, Skipped: j.skipped, New: j.stored}, err
		}
		defer r.Close()
		p, err := r.Progress(ctx)
		p.Skipped, p.New = j.skipped, j.stored
		return p, err
	}
	p, err := progressOf(ctx, j.db)
	p.Skipped, p.New = j.skipped, j.stored
	return p, fileError(j.path, err)
}

// querier is what the queries need of a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// progressOf counts the job's results in q.
func progressOf(ctx context.Context, q querier) (Progress, error) {
	p := Progress{Total: -1}
	err := q.QueryRowContext(ctx, "SELECT count(*) FROM results").Scan(&p.Stored)
	if err == nil {
		// Through the partial index of the failures.
		err = q.QueryRowContext(ctx, "SELECT count(*) FROM results WHERE ok = 0").Scan(&p.Failed)
	}
	if err != nil {
		return p, err
	}
	var total sql.NullInt64
	err = q.QueryRowContext(ctx, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'total'").Scan(&total)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return p, err
	}
	if total.Valid {
		p.Total = total.Int64
	}
	return p, nil
}

// closeFiles closes the database and releases the lock.
func (j *Job) closeFiles() error {
	var err error
	if j.db != nil {
		err = j.db.Close()
		j.db = nil
	}
	if j.lock != nil {
		j.lock.Close() // releases the flock
		j.lock = nil
	}
	return err
}

// sumPrefix reads the first n bytes of r through a SHA-256, keeping the
// first keep of them, and returns the hash and the kept bytes. An input
// shorter than n is io.ErrUnexpectedEOF.
func sumPrefix(r io.Reader, n int64, keep int) (*prefixHash, []byte, error) {
	h := newPrefixHash()
	k := min(int64(keep), n)
	var head bytes.Buffer
	w := hashWriter{h}
	if _, err := io.CopyN(io.MultiWriter(w, &head), r, k); err != nil {
		return nil, nil, eofUnexpected(err)
	}
	if _, err := io.CopyN(w, r, n-k); err != nil {
		return nil, nil, eofUnexpected(err)
	}
	return h, head.Bytes(), nil
}

// hashWriter writes to a prefixHash.
type hashWriter struct{ h *prefixHash }

func (w hashWriter) Write(b []byte) (int, error) {
	w.h.write(b)
	return len(b), nil
}

func eofUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// prefixHash is the SHA-256 of an input's first n bytes.
type prefixHash struct {
	h      hash.Hash
	n      int64
	lastNL bool // the last byte hashed is a newline (or none was)
}

func (p *prefixHash) write(b []byte) {
	if len(b) == 0 {
		return
	}
	p.h.Write(b)
	p.n += int64(len(b))
	p.lastNL = b[len(b)-1] == '\n'
}

func newPrefixHash() *prefixHash { return &prefixHash{h: sha256.New(), lastNL: true} }

func (p *prefixHash) sum() string { return hex.EncodeToString(p.h.Sum(nil)) }
