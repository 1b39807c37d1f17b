package fetch

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gogather/gather/internal/redact"
)

// outcome is what one attempt gave.
type outcome struct {
	status      int
	kind        Kind // "" on success (any status), else the failure
	message     string
	retryAfter  time.Duration
	bytes       int64
	sha         string
	body        json.RawMessage
	bodyFile    string
	truncated   bool
	finalURL    string
	contentType string
	// raw and header are the whole body and the header, when the
	// request asked for them (prepared.whole).
	raw    []byte
	header http.Header
	// noFiles is set when the attempt could not open a socket, the
	// process being out of file descriptors: a local fault, retried
	// (nothing was sent) and not counted against the host.
	noFiles bool
}

func (o outcome) error() *Error {
	if o.kind != "" {
		return &Error{Kind: o.kind, Message: o.message}
	}
	if o.status >= 400 {
		return &Error{Kind: KindHTTPStatus, Message: fmt.Sprintf("%d %s", o.status, http.StatusText(o.status))}
	}
	return nil
}

func (o outcome) fill(r *Record) {
	r.Status = o.status
	r.Error = o.error()
	r.Bytes, r.SHA256, r.Body, r.BodyFile, r.Truncated = o.bytes, o.sha, o.body, o.bodyFile, o.truncated
	r.ContentType = o.contentType
	if o.finalURL != r.URL {
		r.FinalURL = o.finalURL
	}
}

// attempt sends the request once and reads the body under the policy,
// under the attempt timeout: a context of its own, or one of shared's.
func (c *Client) attempt(ctx context.Context, p prepared, shared *sharedContexts) (out outcome) {
	c.onWire.Add(1)
	defer c.onWire.Add(-1)
	if shared != nil {
		sc := shared.get(ctx)
		defer sc.done()
		ctx = sc.ctx
	} else if d, ok := ctx.Deadline(); !ok || time.Until(d) > c.cfg.AttemptTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.cfg.AttemptTimeout, errAttemptTimeout)
		defer cancel()
	} // else the caller's deadline comes first: the attempt needs no context (and no timer) of its own
	tr, reusable := c.newTrace(ctx)
	ctx = tr.with(ctx)
	fail := func(err error) outcome {
		out.kind = classify(ctx, err, tr)
		switch out.kind {
		case KindCanceled, KindDeadline, KindTimeoutTotal:
			if ctx.Err() != nil {
				out.message = c.contextMessage(ctx, tr)
				return out
			}
		}
		if outOfFiles(err) {
			out.message = outOfFilesMessage + redact.Text(err.Error())
			// Nothing was sent when a socket could not be opened: the
			// attempt may be retried, for any method. A body file that
			// could not be created comes after the response: not retried.
			var saveErr *saveError
			out.noFiles = !errors.As(err, &saveErr)
			return out
		}
		if fe, ok := errors.AsType[*forbiddenError](err); ok {
			// A redirect not allowed: its own message, without net/http's
			// `Get "URL": ` (the host is named; nothing was sent to it).
			out.message = fe.msg
			return out
		}
		if out.kind == KindTimeoutHeaders {
			out.message = fmt.Sprintf("no response headers within the headers timeout of %v", c.cfg.HeaderTimeout)
			return out
		}
		out.message = redact.Text(err.Error())
		return out
	}
	req, err := c.newRequest(ctx, p)
	if err != nil {
		out.kind, out.message = KindBadInput, err.Error()
		return out
	}
	// net/http sends req.Host, not a Host header: honour -H "Host: ...".
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if reusable && resp.Request.URL == req.URL && req.URL.Scheme == "http" {
		// A response came, over plain HTTP, without a redirect: net/http
		// has called the trace's hooks for this request, and no dial of
		// this attempt can call them later (only a TLS handshake would).
		defer putTrace(tr)
	}
	out.finalURL = p.canonical
	if strings.IndexByte(p.canonical, '@') >= 0 {
		out.finalURL = redact.URL(p.canonical) // the URL as sent, its password masked
	}
	if resp.Request.URL != req.URL {
		// Redirected (net/http copies a request with a userinfo to add
		// its Authorization, so the request may differ, but not its
		// URL): the URL comes from the server's Location, and a password
		// in it (the server's, or the input's carried over to a relative
		// Location) is masked.
		out.finalURL = redact.URL(resp.Request.URL.String())
	}
	if resp.StatusCode < 100 || resp.StatusCode > 999 {
		return fail(&responseError{fmt.Sprintf("status %03d is not between 100 and 999", resp.StatusCode)})
	}
	out.status = resp.StatusCode
	out.contentType = resp.Header.Get("Content-Type")
	if p.whole {
		out.header = resp.Header
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		out.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	if err := c.readBody(resp.Body, resp.ContentLength, p, &out); err != nil {
		return fail(err)
	}
	return out
}

// sharedContexts hands out the contexts of the attempts of one Run: an
// attempt started within a thousandth of the attempt timeout of another
// shares its context, whose deadline is the attempt timeout and that
// thousandth after the first one's start. A context of its own was most of
// what an attempt cost beyond net/http (a context, a timer, a channel, the
// map of its children, and the entries in its parent's), for a timeout
// that almost never fires; an attempt's timeout is now the attempt timeout
// at least, and a thousandth more at most. A shared context is cancelled
// once the attempts it may serve have started and all have ended (so that
// what is kept is bounded by the attempts in flight, not by the timeout),
// or with its parent, the context Run's inputs run under, or by end.
type sharedContexts struct {
	timeout time.Duration
	cur     atomic.Pointer[sharedContext]
}

type sharedContext struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	until  time.Time // the last start the context serves
	// users counts the attempts under the context, with the sealed bit
	// set once it serves no more: the change to sealed and none in use
	// happens once, and whoever makes it cancels the context.
	users atomic.Int64
}

const sealed = 1 << 62

// get returns the context of an attempt starting now under parent, to be
// given back with done when the attempt ends.
func (s *sharedContexts) get(parent context.Context) *sharedContext {
	for {
		now := time.Now()
		cur := s.cur.Load()
		if cur != nil && cur.parent == parent && now.Before(cur.until) && cur.use() {
			return cur
		}
		slack := s.timeout / 1000
		next := &sharedContext{parent: parent, until: now.Add(slack)}
		next.ctx, next.cancel = context.WithDeadlineCause(parent, now.Add(s.timeout+slack), errAttemptTimeout)
		next.users.Store(1)
		if !s.cur.CompareAndSwap(cur, next) {
			next.cancel() // another attempt made the next one first
			continue
		}
		if cur != nil {
			cur.seal()
		}
		return next
	}
}

// use counts one more attempt under the context, unless it is sealed.
func (c *sharedContext) use() bool {
	for {
		n := c.users.Load()
		if n&sealed != 0 {
			return false
		}
		if c.users.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// done ends an attempt's use of the context.
func (c *sharedContext) done() {
	if c.users.Add(-1) == sealed {
		c.cancel()
	}
}

// seal makes the context serve no more attempts, and cancels it if none
// is under it.
func (c *sharedContext) seal() {
	if n := c.users.Or(sealed); n == 0 {
		c.cancel()
	}
}

// end ends the context still serving attempts, once they have ended.
func (s *sharedContexts) end() {
	if cur := s.cur.Swap(nil); cur != nil {
		cur.seal()
	}
}

// newRequest returns the attempt's request. The URL was parsed once, by
// prepare, and is shared by the attempts of the input (net/http only reads
// a request's URL): nothing is parsed again. Without a body the request is
// made directly, one allocation rather than NewRequest's four.
func (c *Client) newRequest(ctx context.Context, p prepared) (*http.Request, error) {
	header := c.header
	if len(p.req.Header) > 0 {
		header = make(http.Header, len(c.cfg.Header)+len(p.req.Header)+1)
		c.setHeaders(header, p.req.Header)
	}
	if p.req.Body == nil {
		// What NewRequestWithContext makes of a request without a body
		// (prepare checked the method as it does).
		r := http.Request{Method: p.req.Method, URL: p.url, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: header, Host: p.url.Host}
		return r.WithContext(ctx), nil
	}
	req, err := http.NewRequestWithContext(ctx, p.req.Method, "", bytes.NewReader(p.req.Body))
	if err != nil {
		return nil, err
	}
	req.URL, req.Host, req.Header = p.url, p.url.Host, header
	return req, nil
}

// readBody reads at most MaxBody bytes of the (decoded) body, hashing them,
// and keeps what the policy says. A larger body is an errTooLarge error and
// is read no further.
//
// A body that ends before its Content-Length (the connection closed in
// order, no reset) is a responseError saying how much came.
func (c *Client) readBody(body io.Reader, contentLength int64, p prepared, out *outcome) error {
	r := readers.Get().(*bodyReader)
	defer r.release()
	r.hash.Reset()
	r.limited = io.LimitedReader{R: body, N: c.cfg.MaxBody + 1}
	limited, h := &r.limited, r.hash
	if p.whole {
		h = noHash{} // a Response carries no hash: hashing it would be wasted
	}
	var err error
	switch policy := c.cfg.Body; {
	case p.whole:
		var kept *bodyBuffer
		kept, out.bytes, err = keepAll(limited, h, r.chunk, contentLength, c.cfg.MaxBody)
		if err == nil && out.bytes <= c.cfg.MaxBody {
			out.raw = kept.bytes()
		}
	case policy == BodyHash:
		buf := r.small[:]
		if contentLength < 0 || contentLength >= smallBufSize {
			buf = r.chunk()[:]
		}
		out.bytes, err = io.CopyBuffer(h, limited, buf)
	case policy == BodyText:
		var kept *bodyBuffer
		kept, out.bytes, err = keepAll(limited, h, r.chunk, contentLength, c.cfg.MaxBody)
		if err == nil && out.bytes <= c.cfg.MaxBody {
			out.body = textJSON(kept)
		}
	case policy == BodyBase64:
		out.body, out.bytes, err = keepBase64(limited, h, r.chunk(), contentLength, c.cfg.MaxBody)
	case policy == BodyHead:
		var kept []byte
		kept, out.bytes, err = keep(limited, h, r.chunk(), c.cfg)
		if err == nil && out.bytes <= c.cfg.MaxBody {
			out.body, out.truncated = encodeBody(kept, out.bytes)
		}
	case policy == BodyDir:
		out.bytes, out.bodyFile, err = save(limited, h, c.cfg.BodyDir, p.req.Line)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) && contentLength > 0 && out.bytes < contentLength {
		return &responseError{fmt.Sprintf("the body was cut short: %d of %d bytes (Content-Length)", out.bytes, contentLength)}
	}
	if err != nil {
		return err
	}
	if out.bytes > c.cfg.MaxBody {
		if out.bodyFile != "" {
			os.Remove(out.bodyFile)
			out.bodyFile = ""
		}
		return fmt.Errorf("%w of %d bytes", errTooLarge, c.cfg.MaxBody)
	}
	if p.whole {
		return nil
	}
	var sum [2 * sha256.Size]byte
	hex.Encode(sum[:], h.Sum(r.sum[:0]))
	out.sha = string(sum[:])
	return nil
}

// noHash is a hash.Hash that hashes nothing, for bodies whose hash is not
// kept.
type noHash struct{}

func (noHash) Write(p []byte) (int, error) { return len(p), nil }
func (noHash) Sum(b []byte) []byte         { return b }
func (noHash) Reset()                      {}
func (noHash) Size() int                   { return 0 }
func (noHash) BlockSize() int              { return 1 }

// copyBufSize is the size of the buffer bodies are read through.
const copyBufSize = 32 << 10

// smallBufSize is the size of the buffer a body shorter than it, of known
// length, is hashed through under BodyHash.
const smallBufSize = 4 << 10

// A bodyReader is what reading one body takes: the hash, the limit and
// the buffer bodies are read through. They are pooled: io.Copy would
// allocate 32 KiB per body (a hash has no ReadFrom), which at tens of
// thousands of small responses a second was most of the client's
// allocation and kept the garbage collector busy.
//
// The 32 KiB buffer is pooled on its own, and taken only for a body that
// needs it (kept, long, or of unknown length): a pool is emptied by every
// other garbage collection, and with a 32 KiB buffer in every reader the
// readers made again after each (one per request in flight) were most of
// the bytes a run of small bodies allocated, and brought the next
// collection nearer.
type bodyReader struct {
	hash    hash.Hash
	limited io.LimitedReader
	sum     [sha256.Size]byte
	small   [smallBufSize]byte
	buf     *[copyBufSize]byte // nil until chunk
}

var (
	readers = sync.Pool{New: func() any { return &bodyReader{hash: sha256.New()} }}
	chunks  = sync.Pool{New: func() any { return new([copyBufSize]byte) }}
)

// chunk returns the reader's 32 KiB buffer, taken from its pool.
func (r *bodyReader) chunk() *[copyBufSize]byte {
	if r.buf == nil {
		r.buf = chunks.Get().(*[copyBufSize]byte)
	}
	return r.buf
}

// release gives the reader and its buffer back to their pools.
func (r *bodyReader) release() {
	r.limited.R = nil // the pool keeps no response alive
	if r.buf != nil {
		chunks.Put(r.buf)
		r.buf = nil
	}
	readers.Put(r)
}

// keepInitial is the capacity a kept body starts with; it grows as needed.
const keepInitial = 4 << 10

// keep reads the head of r into memory, hashing everything, through
// chunk.
func keep(r io.Reader, h hash.Hash, chunk *[copyBufSize]byte, cfg Config) (kept []byte, n int64, err error) {
	limit := int64(cfg.BodyHead)
	buf := make([]byte, 0, min(limit, keepInitial))
	for {
		m, rerr := r.Read(chunk[:])
		h.Write(chunk[:m])
		if room := limit - int64(len(buf)); room > 0 {
			buf = append(buf, chunk[:min(int64(m), room)]...)
		}
		n += int64(m)
		if rerr == io.EOF {
			return buf, n, nil
		}
		if rerr != nil {
			return buf, n, rerr
		}
	}
}

// encodeBody returns the head of a body as a JSON string, and whether it
// is only the head.
func encodeBody(b []byte, total int64) (json.RawMessage, bool) {
	v, _ := json.Marshal(string(b))
	return v, total > int64(len(b))
}

// save writes the body to dir/<line>.body through a temporary file, so a
// body file is either complete or absent.
func save(r io.Reader, h hash.Hash, dir string, line int) (int64, string, error) {
	final := filepath.Join(dir, strconv.Itoa(line)+".body")
	tmp, err := os.CreateTemp(dir, partPattern)
	if err != nil {
		return 0, "", &saveError{err}
	}
	src := &readErr{r: r}
	w := bufio.NewWriterSize(io.MultiWriter(tmp, h), 32<<10)
	n, err := io.Copy(w, src)
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		os.Remove(tmp.Name())
		if src.err == nil || err != src.err {
			err = &saveError{err} // the file's fault, not the body's
		}
		return n, "", err
	}
	return n, final, nil
}

// readErr is a reader that remembers its last error, to tell a body's
// read errors from a file's write errors after an io.Copy.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// partPattern names a body file being written (os.CreateTemp replaces the
// * with decimal digits); it is renamed to <line>.body when complete.
const partPattern = ".part-*"

// RemovePartFiles removes from dir the temporary files the dir body
// policy (BodyDir) writes bodies through, which a run killed mid-body
// leaves behind: regular files named ".part-" and decimal digits, the
// names os.CreateTemp gives for partPattern, nothing else. It returns how
// many it removed. Call it only when no other run writes there (gather
// fetch holds a lock file in the directory for its run).
func RemovePartFiles(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !e.Type().IsRegular() || !isPartName(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}

// isPartName reports whether name is partPattern with decimal digits for
// its *.
func isPartName(name string) bool {
	digits, ok := strings.CutPrefix(name, strings.TrimSuffix(partPattern, "*"))
	if !ok || digits == "" {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}
