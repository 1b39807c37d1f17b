// Package job keeps a gather fetch run in one SQLite file (the pure-Go
// modernc.org/sqlite driver: no cgo), so that a run over millions of inputs
// survives Ctrl-C, SIGTERM, kill -9 and power loss: running the same command
// again skips every input whose result is stored, runs the ones that were in
// flight again, and in the end holds exactly one result per input.
//
// # The file
//
// A job file is an ordinary SQLite database in WAL mode, marked with
// PRAGMA application_id = 0x67617468 ("gath") and PRAGMA user_version = 2
// (the schema version). Any other file given as a job is refused and left
// as it is. This package is the only one that knows its SQL: other
// packages read a job through a Reader and write one through a Job (a
// run) or a Builder (tools and tests). Its tables:
//
//	meta(key TEXT PRIMARY KEY, value TEXT)
//	    created      RFC 3339 time the job was created
//	    settings     JSON [{"key", "value"}]: the settings that define
//	                 the results, by stable key (input_format,
//	                 url_template, method, headers, body, keep,
//	                 body_policy, body_head, max_body, max_redirects for
//	                 gather fetch); a run with other values is refused
//	    input        JSON {"name", "format"}: the input as first given
//	    checkpoint   JSON {"line", "offset", "sha256", "records"}: every
//	                 input record that ends within the first offset bytes
//	                 of the input (line lines) has its result stored;
//	                 sha256 is the hash of those bytes, so a resumed run
//	                 checks the input is the same and starts reading there
//	    total        the number of input records, once the input was read
//	                 to its end
//	    seq          the last results.seq given
//	    tail         JSON {"line", "end", "sha256"}: when the input ended
//	                 without a newline, its last record's line, where it
//	                 ended, and the hash of the input up to there
//	    key          the random key (hex) of the job's keyed hashes
//	A checkpoint is only ever at the end of a line: an input's last line
//	without a newline is parsed again on resume (and skipped, its result
//	being stored, unless text appended to the input changed that line: the
//	tail tells, and the line then runs again, its old result moved to
//	history), so lines appended to the input later are numbered as a fresh
//	run would number them.
//	The settings' sensitive header values (internal/redact.SensitiveHeader:
//	Authorization, Cookie, and names holding auth, token, key, secret,
//	pass, session, cookie or credential) are kept as "hmac-sha256:" and
//	the HMAC-SHA256 of the value under the job's key; a job of an earlier
//	release, which kept them in clear, gets a key and its values hashed the
//	next time it is opened. The key is in the same file: the hash keeps a
//	secret from being read off the file or a message, not from being
//	guessed offline by someone who has the file, if it is guessable.
//	runs(id, started, ended, status, settings)
//	    one row per run of the command: unix seconds, "running", "done",
//	    "interrupted" or "failed", and the run's full settings as JSON
//	results(line PRIMARY KEY, seq, run, host, status, error_kind, ok,
//	        attempts, ms, bytes, finished, record, url, method)
//	    the current result of each input: line is the input's line (record)
//	    number, seq the order results were stored in, host the URL's
//	    scheme://host:port ("" for none), error_kind NULL on success, ok 1 when the record has no
//	    error, finished unix seconds, and record the JSON record exactly as
//	    gather fetch writes it; url and method are read from the record
//	    (generated columns, not stored twice)
//	history(line, seq, run, status, error_kind, ok, attempts, ms,
//	        finished, record)
//	    every earlier result of an input, replaced by a later run
//	    (--retry-failed, or its line changed by text appended to it)
//
// # Earlier schema versions
//
// A job file of schema version 1 (gather up to commit 1ac067a) stored its
// settings as [{"name", "value"}], named by gather fetch's flags
// ("--url", "--header", ...), and its results' hosts as "host[:port]" as
// written in the URL. OpenReader reads it as it is (the settings mapped to
// keys); the first Open whose settings match migrates it in place: the
// settings stored by key, each host made "scheme://host:port" (the scheme
// from the result's URL, a default port made explicit), user_version 2.
// A run refused (other settings) leaves it byte for byte as it is.
// testdata/v1job holds such a file, and how it was made.
//
// # Reading
//
// OpenReader opens a job for reading, beside a run that may be writing
// it, and never changes the file. Every read is one SQLite read
// transaction, so a run's writes are never seen halfway: Results (the
// results matching a Filter, in line order, each a Result with its record
// as stored), Progress, Meta, Runs, and a Snapshot holding one
// transaction over several queries (the aggregates of package report:
// Totals, Groups, ErrorKinds, Latencies, TopHosts). A malformed page met
// while reading is an error wrapping ErrDamaged that names the file.
//
// # Creation, damage and locking
//
// A new job file is made whole under a temporary name beside it
// (".NAME.new-N") and linked into place, so a process killed at any
// instant leaves no file or a whole job (the next Open removes what it
// left). Open runs SQLite's quick_check before writing anything, and
// OpenReader before reading: a damaged file is refused (ErrDamaged) and
// left byte for byte as it is. The file a run of this process has just
// closed cleanly, unchanged since, is read without a second check
// (OpenReader with AfterClose), and the closed Job's Progress is the one
// Close kept. A run holds an exclusive lock on the file
// while it is open: flock(2) on Unix, LockFileEx on one byte far past
// SQLite's own locks on Windows; both end with the process, however it
// ends, so a run still "running" when the lock is taken was killed, and
// Open marks it "interrupted".
//
// For example, the failures by kind:
//
//	sqlite3 crawl.db "SELECT error_kind, count(*) FROM results WHERE ok = 0 GROUP BY 1"
package job
