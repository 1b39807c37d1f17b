package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/gogather/gather/input"
)

// Input is a run's input as the job sees it: where reading starts, and,
// record by record, which inputs to fetch. Resuming reads the input's
// first bytes again only to check their hash (so an input that changed is
// refused) and starts parsing where the job's checkpoint is: resuming a
// job of 10 million lines, 9 million of them done, reads 9 million lines'
// bytes through SHA-256 (about a second per GB) and parses none of them.
type Input struct {
	job *Job
	// Start is where Reader's bytes start in the input: hand it to
	// input.LinesFrom, JSONLFrom or CSVFrom.
	Start input.Pos
	// Prefix holds the input's first bytes (up to input.MaxLine + 2),
	// when Start is past them: a CSV input's header is read from them
	// (input.CSVHeader).
	Prefix []byte

	r          *teeReader
	hash       *prefixHash
	above      []int // lines past the checkpoint with a stored result, sorted
	retry      []int // failed lines to run again, sorted
	lastEnd    int   // the last line of the previous record taken (or line passed)
	lastOffset int64 // and where it ends
	snapAt     checkpoint
}

// snapshotEvery bounds the input between two checkpoints: after this many
// bytes or records, the position and hash are noted, to be stored once
// every record before has its result stored.
const (
	snapshotBytes   = 64 << 10
	snapshotRecords = 512
)

// ErrOtherInput is the error of an input that is not the job's (or cannot
// be checked to be).
var ErrOtherInput = errors.New("the input is not the job's")

// InputOptions are the options of Job.Input.
type InputOptions struct {
	// Retry, when not nil, runs failed results matching it again.
	Retry *Filter
	// Check is a second reader of the input from its start, needed with
	// Retry: failed inputs may be anywhere, so the input is read whole
	// from r, after Check showed it is the job's.
	Check io.Reader
}

// Input prepares reading the run's input from r, from its start. Without
// a retry filter, the input is checked and skipped up to the job's
// checkpoint; with one, see InputOptions. An input that differs from the
// job's, over the part the job has done, is refused.
func (j *Job) Input(ctx context.Context, r io.Reader, opts InputOptions) (*Input, error) {
	if opts.Retry != nil && opts.Retry.OK {
		return nil, fmt.Errorf("a retry runs failed results again: \"ok\" selects none")
	}
	j.retry = opts.Retry
	in := &Input{job: j}
	keep := input.MaxLine + 2
	if j.cp.Offset > 0 {
		src := r
		if j.retry != nil {
			if opts.Check == nil {
				return nil, fmt.Errorf("%w: --retry-failed needs the input as a file, not a pipe: it reads it twice", ErrOtherInput)
			}
			src = opts.Check
		}
		h, prefix, err := sumPrefix(src, j.cp.Offset, keep)
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%w: it is shorter than the %d bytes (%d lines) the job has done", ErrOtherInput, j.cp.Offset, j.cp.Line)
		case err != nil:
			return nil, fmt.Errorf("reading the input: %w", err)
		case h.sum() != j.cp.SHA256:
			return nil, fmt.Errorf("%w: its first %d bytes (%d lines) differ from those the job has done", ErrOtherInput, j.cp.Offset, j.cp.Line)
		}
		if j.retry == nil {
			in.Start = input.Pos{Line: j.cp.Line, Offset: j.cp.Offset}
			in.Prefix = prefix
			in.hash = h
			j.records = j.cp.Records
		}
	}
	if in.hash == nil {
		in.hash = newPrefixHash()
	}
	in.r = &teeReader{r: r, hash: in.hash}
	in.lastEnd, in.lastOffset = in.Start.Line, in.Start.Offset
	in.snapAt = checkpoint{Line: in.Start.Line, Offset: in.Start.Offset, Records: j.records}
	var err error
	if in.above, err = j.lines(ctx, "SELECT line FROM results WHERE line > ? ORDER BY line", j.cp.Line); err != nil {
		return nil, err
	}
	if j.retry != nil {
		where, args := j.retry.where()
		if in.retry, err = j.lines(ctx, "SELECT line FROM results WHERE ok = 0 AND ("+where+") ORDER BY line", args...); err != nil {
			return nil, err
		}
	}
	j.mu.Lock()
	j.front = frontier{next: in.Start.Line + 1}
	j.mu.Unlock()
	return in, nil
}

// lines runs a query of line numbers.
func (j *Job) lines(ctx context.Context, query string, args ...any) ([]int, error) {
	rows, err := j.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fileError(j.path, err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var l int
		if err := rows.Scan(&l); err != nil {
			return nil, fileError(j.path, err)
		}
		out = append(out, l)
	}
	return out, fileError(j.path, rows.Err())
}

// Reader returns the input's bytes from Start on, to be parsed.
func (in *Input) Reader() io.Reader { return in.r }

// Take is told of each input record in order, with its first line and its
// end, as it is parsed from Reader, and says whether to fetch it: false
// when the job has its result stored already (and no retry asks for it).
// It must be called for every record, bad ones included.
func (in *Input) Take(num int, end input.Pos) bool {
	j := in.job
	j.records++
	// The record that was the input's last, unterminated, when its result
	// was stored: the same unless text was appended to its line.
	isTail := j.tail != nil && num == j.tail.Line
	changed := false
	if t := j.tail; isTail {
		in.r.hashTo(t.End)
		changed = true
		if end.Offset >= t.End && in.hash.n == t.End && in.hash.sum() == t.SHA256 {
			switch rest, _ := in.r.peek(end.Offset - t.End); string(rest) {
			case "", "\n", "\r\n":
				changed = false
			}
		}
	}
	// Hash the record's bytes: the input's hash is known at every record's
	// end, and noted at some of them for the checkpoints.
	in.r.hashTo(end.Offset)
	stored := num <= j.cp.Line
	for len(in.above) > 0 && in.above[0] < num {
		in.above = in.above[1:]
	}
	if len(in.above) > 0 && in.above[0] == num {
		stored = true
	}
	replace := stored && changed
	if replace {
		stored = false // its result is of the line as it was: run it again
	}
	for len(in.retry) > 0 && in.retry[0] < num {
		in.retry = in.retry[1:]
	}
	again := len(in.retry) > 0 && in.retry[0] == num
	j.mu.Lock()
	if replace {
		if j.replace == nil {
			j.replace = map[int]bool{}
		}
		j.replace[num] = true
	}
	unterminated := !in.hash.lastNL && in.hash.n == end.Offset
	if !stored && (unterminated || isTail) {
		// Stored with the record's result: the input ends here for now,
		// mid-line (or the job's tail is this line, whole now).
		j.tailAt, j.tailNext = num, nil
		if unterminated {
			j.tailNext = &tail{Line: num, End: end.Offset, SHA256: in.hash.sum()}
		}
	}
	// Lines that start no record (a CSV header, the rest of a record on
	// several lines) are done when read; so is a record with a result.
	for l := in.lastEnd + 1; l <= end.Line; l++ {
		if l != num || stored {
			j.front.set(l)
		}
	}
	in.movePast(end)
	j.mu.Unlock()
	if stored && !again {
		j.skipped++
		return false
	}
	return true
}

// Ended says the input was read to its end: the job now knows its number
// of records, and the final checkpoint covers the whole input.
func (in *Input) Ended() {
	j := in.job
	j.mu.Lock()
	defer j.mu.Unlock()
	// Only where the last line taken or passed ends: the hash may be
	// ahead of it, over lines no one was told of.
	in.r.hashTo(in.lastOffset)
	if in.hash.n > in.snapAt.Offset && in.hash.lastNL && in.hash.n == in.lastOffset {
		in.snapAt = checkpoint{Line: in.lastEnd, Offset: in.hash.n, SHA256: in.hash.sum(), Records: j.records}
		j.front.snaps = append(j.front.snaps, in.snapAt)
		j.front.advance()
	}
	j.read, j.lastRead = true, in.lastEnd
}

// teeReader hashes the bytes read through it, at the pace the records
// they hold are taken: the hash is known at each record's end. Bytes far
// enough behind what was read that no record can end before them are
// hashed as they come, so a line of any length costs no memory here.
type teeReader struct {
	r       io.Reader
	hash    *prefixHash
	pending []byte // the bytes read and not hashed yet
	start   int    // pending[start:] is not hashed yet
}

// hashLag is how far behind the bytes read the hash may be: the input
// readers buffer input.ReadBuffer bytes, so every record ending before the
// last hashLag bytes read was taken, and hashed, already.
const hashLag = 2 * input.ReadBuffer

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if t.start > 0 && t.start >= len(t.pending)/2 {
		t.pending = append(t.pending[:0], t.pending[t.start:]...)
		t.start = 0
	}
	t.pending = append(t.pending, p[:n]...)
	if behind := len(t.pending) - t.start - hashLag; behind > 0 {
		t.hash.write(t.pending[t.start : t.start+behind])
		t.start += behind
	}
	return n, err
}

// peek returns the next n bytes read and not hashed yet; ok is false when
// fewer were read.
func (t *teeReader) peek(n int64) (b []byte, ok bool) {
	if n < 0 || n > int64(len(t.pending)-t.start) {
		return nil, false
	}
	return t.pending[t.start : t.start+int(n)], true
}

// hashTo hashes the input up to offset, as far as it was read.
func (t *teeReader) hashTo(offset int64) {
	n := min(offset-t.hash.n, int64(len(t.pending)-t.start))
	if n <= 0 {
		return
	}
	t.hash.write(t.pending[t.start : t.start+int(n)])
	t.start += int(n)
}

// frontier tracks which lines are done (their record's result stored, or
// not a record's first line) past the last point where all are, and the
// snapshots waiting for the frontier to pass them.
type frontier struct {
	next  int      // every line below next is done
	words []uint64 // bit i: line next0 + i is done, next0 = base
	base  int      // the line of words[0]'s bit 0
	snaps []checkpoint
	ready *checkpoint // the newest snapshot the frontier has passed
}

func (f *frontier) set(line int) {
	if line < f.next {
		return
	}
	if len(f.words) == 0 {
		f.base = f.next &^ 63
	}
	i := line - f.base
	for i/64 >= len(f.words) {
		f.words = append(f.words, 0)
	}
	f.words[i/64] |= 1 << (i % 64)
}

func (f *frontier) has(line int) bool {
	i := line - f.base
	if line < f.next {
		return true
	}
	if i < 0 || i/64 >= len(f.words) {
		return false
	}
	return f.words[i/64]&(1<<(i%64)) != 0
}

// advance moves next past the done lines and readies the snapshots it
// passed.
func (f *frontier) advance() {
	for f.has(f.next) {
		f.next++
	}
	if drop := (f.next - f.base) / 64; drop > 0 && drop <= len(f.words) {
		f.words = f.words[drop:]
		f.base += drop * 64
	}
	i := 0
	for i < len(f.snaps) && f.snaps[i].Line < f.next {
		i++
	}
	if i > 0 {
		s := f.snaps[i-1]
		f.ready = &s
		f.snaps = slices.Delete(f.snaps, 0, i)
	}
}

// Pass is told of each input line that is no record and is not given to
// Take (a plain list's blank lines and comments), in order, with its end:
// the line is done, and the input's hash and checkpoints move past it.
func (in *Input) Pass(end input.Pos) {
	j := in.job
	in.r.hashTo(end.Offset)
	j.mu.Lock()
	defer j.mu.Unlock()
	for l := in.lastEnd + 1; l <= end.Line; l++ {
		j.front.set(l)
	}
	in.movePast(end)
}

// movePast records that the input has been read to end (a record's or a
// passed line's), taking a checkpoint when one is due, and lets the
// frontier advance. It is called with the job's mutex held.
func (in *Input) movePast(end input.Pos) {
	j := in.job
	in.lastEnd = max(in.lastEnd, end.Line)
	in.lastOffset = max(in.lastOffset, end.Offset)
	// A checkpoint is only ever at the end of a line: a record that ends
	// elsewhere is the input's last line without its newline (lines may be
	// appended to it), or a line cut short by an interruption.
	if in.hash.lastNL && in.hash.n == end.Offset &&
		(end.Offset-in.snapAt.Offset >= snapshotBytes || j.records-in.snapAt.Records >= snapshotRecords) {
		in.snapAt = checkpoint{Line: end.Line, Offset: end.Offset, SHA256: in.hash.sum(), Records: j.records}
		j.front.snaps = append(j.front.snaps, in.snapAt)
	}
	j.front.advance()
}
