package upstream

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxEchoBody is the largest request body echo=1 returns.
const maxEchoBody = 16 << 20

const (
	contentText = "text/plain; charset=utf-8"
	contentJSON = "application/json"
)

// malformedReply is what malformed=1 writes instead of a response.
var malformedReply = []byte("\x00\x01\x02\x03 this is not HTTP \xff\xfe\xfd\r\n\r\n")

// serve is the server's handler.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_stats":
		s.serveStats(w, r)
		return
	case "/_reset":
		s.serveReset(w, r)
		return
	}
	if !s.enter() {
		// Closing: break the connection rather than answer.
		panic(http.ErrAbortHandler)
	}
	defer s.handlers.Done()

	s.requests.Add(1)
	seq := s.paths.Load().get(r.URL.Path).Add(1)
	g := s.hosts.get(r.Host)
	g.inc()
	s.inFlight.Add(1)
	defer func() {
		s.inFlight.Add(-1)
		g.cur.Add(-1)
	}()

	h := w.Header()
	h.Set("X-Request-Seq", strconv.FormatInt(seq, 10))

	p, err := s.params(r.URL.RawQuery)
	if err != nil {
		drain(r)
		s.writeShort(w, r, http.StatusBadRequest, []byte(err.Error()+"\n"))
		return
	}
	if strings.HasPrefix(r.URL.Path, "/demo/") {
		s.serveDemo(w, r, &p)
		return
	}

	// Read the request as a real server would, before working on it.
	var reqBody []byte
	if p.echo {
		reqBody, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxEchoBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if !errors.As(err, &tooBig) {
				return // the client went away
			}
			s.writeShort(w, r, http.StatusRequestEntityTooLarge, []byte("request body over 16 MiB\n"))
			return
		}
	} else {
		drain(r)
	}

	ctx := r.Context()
	d := p.latency
	if p.jitter > 0 {
		d += time.Duration(s.float() * float64(p.jitter))
	}
	if err := s.sleep(ctx, d); err != nil {
		abort(err)
		return
	}

	// Decide: a conditional failure, a random one from the Config, a
	// redirect, an explicit failure, or success.
	fail := false
	switch {
	case p.conditional():
		fail = p.failFirst >= 0 && seq <= p.failFirst
		if !fail && p.failRate > 0 {
			fail = s.float() < p.failRate
		}
	case !p.explicit() && p.failRate > 0:
		fail = s.float() < p.failRate
	}
	if !fail && (p.loop || p.redirect > 0) {
		s.redirect(w, r, &p)
		return
	}
	if !fail && !p.conditional() && p.explicit() {
		fail = true
	}
	if !fail {
		s.answer(w, r, &p, http.StatusOK, reqBody)
		return
	}
	switch {
	case p.reset:
		resetConn(w)
	case p.malformed:
		malformed(w)
	case p.hang:
		select {
		case <-ctx.Done():
		case <-s.shutdown:
			abort(errClosed)
		}
	default:
		code := p.status
		if code == 0 {
			code = s.cfg.FailStatus
		}
		s.answer(w, r, &p, code, reqBody)
	}
}

// abort ends a handler whose wait was cut short: by Close, with a broken
// connection; by the client, quietly, since nobody is listening.
func abort(err error) {
	if errors.Is(err, errClosed) {
		panic(http.ErrAbortHandler)
	}
}

// drain reads and discards the request body, so that the connection can
// serve the next request.
func drain(r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		io.Copy(io.Discard, r.Body)
	}
}

// redirect answers 302 to the same URL, with redirect counted down unless
// the request loops.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, p *params) {
	loc := r.URL.RequestURI()
	if !p.loop {
		q := make(url.Values, len(p.query))
		for k, v := range p.query {
			q[k] = v
		}
		q.Set("redirect", strconv.FormatInt(p.redirect-1, 10))
		loc = r.URL.EscapedPath() + "?" + q.Encode()
	}
	h := w.Header()
	h.Set("Location", loc)
	s.writeShort(w, r, http.StatusFound, []byte("redirect to "+loc+"\n"))
}

// resetConn closes the request's connection with a TCP RST and no
// response.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// malformed writes bytes that are not an HTTP response and closes the
// connection.
func malformed(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	conn.Write(malformedReply)
	conn.Close()
}

// answer writes a response of status code with the body the knobs ask
// for; reqBody is the request body, read when p.echo is set.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, p *params, code int, reqBody []byte) {
	h := w.Header()
	if code >= 400 && p.retryAfter != "" {
		h.Set("Retry-After", p.retryAfter)
	}
	var b body
	switch {
	case p.echo:
		b = body{data: echoJSON(r, reqBody)}
		h.Set("Content-Type", contentJSON)
	case p.bomb >= 0:
		b = body{bomb: true, n: p.bomb}
	case p.size >= 0:
		b = body{pattern: true, n: p.size}
	default:
		b = body{data: shortBody(r, code)}
	}
	if !p.echo {
		h.Set("Content-Type", contentText)
	}
	if err := s.writeBody(w, r, p, code, b); err != nil {
		// The body is cut short: make sure the client sees a broken
		// response, not a complete shorter one.
		panic(http.ErrAbortHandler)
	}
}

// writeShort writes a response with a short text body and no body knobs.
func (s *Server) writeShort(w http.ResponseWriter, r *http.Request, code int, text []byte) {
	h := w.Header()
	h.Set("Content-Type", contentText)
	if !bodyAllowed(code) {
		w.WriteHeader(code)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(text)
	}
}

// shortBody is the body of a response whose request asks for none.
func shortBody(r *http.Request, code int) []byte {
	if code < 400 {
		return []byte("ok " + r.URL.Path + "\n")
	}
	return []byte(strconv.Itoa(code) + " " + http.StatusText(code) + " " + r.URL.Path + "\n")
}

// echoReply is the JSON answer of echo=1.
type echoReply struct {
	Method        string      `json:"method"`
	Path          string      `json:"path"`
	RawQuery      string      `json:"raw_query"`
	Query         url.Values  `json:"query"`
	Headers       http.Header `json:"headers"`
	Host          string      `json:"host"`
	Proto         string      `json:"proto"`
	ContentLength int64       `json:"content_length"`
	Body          string      `json:"body"`
	BodyBase64    string      `json:"body_base64,omitempty"`
}

// echoJSON describes the request as JSON.
func echoJSON(r *http.Request, reqBody []byte) []byte {
	q := r.URL.Query()
	e := echoReply{
		Method:        r.Method,
		Path:          r.URL.Path,
		RawQuery:      r.URL.RawQuery,
		Query:         q,
		Headers:       r.Header,
		Host:          r.Host,
		Proto:         r.Proto,
		ContentLength: r.ContentLength,
	}
	if utf8.Valid(reqBody) {
		e.Body = string(reqBody)
	} else {
		e.BodyBase64 = base64.StdEncoding.EncodeToString(reqBody)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(e) // cannot fail: strings and maps of strings
	return buf.Bytes()
}

// serveStats answers GET /_stats with the statistics as JSON.
func (s *Server) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeShort(w, r, http.StatusMethodNotAllowed, []byte("use GET\n"))
		return
	}
	data, _ := json.Marshal(s.Stats())
	data = append(data, '\n')
	h := w.Header()
	h.Set("Content-Type", contentJSON)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "no-store")
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// serveReset answers POST /_reset by resetting the statistics.
func (s *Server) serveReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.writeShort(w, r, http.StatusMethodNotAllowed, []byte("use POST\n"))
		return
	}
	drain(r)
	s.Reset()
	s.writeShort(w, r, http.StatusOK, []byte("reset\n"))
}
