package run

import (
	"context"
	"io"
	"iter"
	"net/http"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/gogather/gather/template"
)

// requestSpec is the fetch stage's input side for tests: the source of an
// input's items and the requests Fetch makes of them, without a client.
type requestSpec struct {
	src  *source
	stag Fetch
}

func newRequestSpec(format, method, url string, headers []string, data []byte, keep []string, _ http.Header) (*requestSpec, error) {
	reqs, err := template.NewRequests(template.RequestSpec{
		Method: method, URL: url, Headers: headers, Body: data, Keep: keep,
		Labels: template.Labels{URL: "--url", Header: "-H", Body: "--data"},
	})
	if err != nil {
		return nil, err
	}
	return &requestSpec{src: &source{format: Format(format)}, stag: Fetch{Requests: reqs}}, nil
}

// requestsContext reads r as a run does (take and pass as a job's) and
// yields the requests the stage would send; ctx is the run's stop.
func (s *requestSpec) requestsContext(ctx context.Context, r io.Reader, start input.Pos, header []string, take func(int, input.Pos) bool, pass func(input.Pos)) iter.Seq[fetch.Request] {
	reqs, _ := s.stag.MakeRequests(ctx, s.src.items(ctx, r, start, header, take, pass))
	return reqs
}

func (s *requestSpec) skippedLines() int64 { return s.src.skippedLines() }
func (s *requestSpec) endedEarly() error   { return s.src.endedEarly() }
