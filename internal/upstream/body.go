package upstream

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// chunkSize is the piece of body written between two chunk delays.
const chunkSize = 4 << 10

// gzipBufferMax is the largest size=N body gzip=1 compresses in memory to
// send a Content-Length; larger ones are streamed, chunked.
const gzipBufferMax = 1 << 20

// patternBlock is the content of size=N bodies: byte i is
// patternBlock[i%len(patternBlock)].
var patternBlock = makePattern()

// makePattern builds 64 KiB of pseudo-random lowercase words in lines of
// at most 72 bytes, ending with a newline, the same in every process.
func makePattern() []byte {
	const size = 64 << 10
	b := make([]byte, 0, size+80)
	x := uint64(0x243f6a8885a308d3)
	next := func() uint64 {
		x += 0x9e3779b97f4a7c15
		return mix64(x)
	}
	col := 0
	for len(b) < size {
		n := 2 + int(next()%8)
		if col > 0 {
			if col+1+n > 72 {
				b = append(b, '\n')
				col = 0
			} else {
				b = append(b, ' ')
				col++
			}
		}
		for range n {
			b = append(b, 'a'+byte(next()%26))
		}
		col += n
	}
	b = b[:size]
	b[size-1] = '\n'
	return b
}

// mix64 is SplitMix64's output function: a bijective hash of z.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// writePattern writes the first n bytes of the size=N content.
func writePattern(w io.Writer, n int64) error {
	for n > 0 {
		k := min(n, int64(len(patternBlock)))
		if _, err := w.Write(patternBlock[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// body is what a response carries: data, the size=N pattern, or a gzip
// bomb of n zero bytes.
type body struct {
	data    []byte
	pattern bool
	bomb    bool
	n       int64
}

// bodyAllowed reports whether a response of status code has a body.
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

var (
	gzipPool = sync.Pool{New: func() any {
		zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		return zw
	}}
	bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// gzipTo returns a pooled gzip writer writing to w.
func gzipTo(w io.Writer) *gzip.Writer {
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(w)
	return zw
}

// putGzip returns a gzip writer to the pool.
func putGzip(zw *gzip.Writer) {
	zw.Reset(io.Discard) // drop the reference to the response
	gzipPool.Put(zw)
}

// writeBody sends the status, the body's headers and, unless the request
// is HEAD, the body; an error means the body was cut short.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, p *params, code int, b body) error {
	h := w.Header()
	if !bodyAllowed(code) {
		w.WriteHeader(code)
		return nil
	}
	head := r.Method == http.MethodHead
	var out io.Writer = w
	if p.chunkDelay > 0 && !head {
		out = &pacedWriter{w: w, rc: http.NewResponseController(w), s: s, ctx: r.Context(), delay: p.chunkDelay}
	}
	switch {
	case b.bomb:
		plan := planBomb(b.n)
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.FormatInt(plan.length, 10))
		w.WriteHeader(code)
		if head {
			return nil
		}
		return plan.writeTo(out)

	case p.gzip && b.pattern && b.n > gzipBufferMax:
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(code)
		if head {
			return nil
		}
		zw := gzipTo(out)
		err := writePattern(zw, b.n)
		if err == nil {
			err = zw.Close()
		}
		putGzip(zw)
		return err

	case p.gzip:
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		defer bufPool.Put(buf)
		zw := gzipTo(buf)
		if b.pattern {
			writePattern(zw, b.n)
		} else {
			zw.Write(b.data)
		}
		zw.Close()
		putGzip(zw)
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(buf.Len()))
		w.WriteHeader(code)
		if head {
			return nil
		}
		_, err := out.Write(buf.Bytes())
		return err

	case b.pattern:
		h.Set("Content-Length", strconv.FormatInt(b.n, 10))
		w.WriteHeader(code)
		if head {
			return nil
		}
		return writePattern(out, b.n)

	default:
		h.Set("Content-Length", strconv.Itoa(len(b.data)))
		w.WriteHeader(code)
		if head {
			return nil
		}
		_, err := out.Write(b.data)
		return err
	}
}

// pacedWriter writes a body in chunkSize pieces, flushing each one, with
// delay between two pieces: the wait comes only when bytes past a piece's
// end arrive, so there is none after the last piece.
type pacedWriter struct {
	w     io.Writer
	rc    *http.ResponseController
	s     *Server
	ctx   context.Context
	delay time.Duration
	fill  int // bytes in the current piece
}

func (pw *pacedWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if pw.fill == chunkSize {
			if err := pw.s.sleep(pw.ctx, pw.delay); err != nil {
				return n, err
			}
			pw.fill = 0
		}
		k := min(len(b), chunkSize-pw.fill)
		m, err := pw.w.Write(b[:k])
		n += m
		pw.fill += m
		if err != nil {
			return n, err
		}
		b = b[k:]
		if pw.fill == chunkSize {
			if err := pw.rc.Flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}
