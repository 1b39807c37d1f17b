package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// A stray quote that ends a CSV input early: its record is bad_input
// saying where, and the spec keeps why the input ended early for the
// summary.
func TestCSVStrayQuoteEndsInputEarly(t *testing.T) {
	spec, err := newRequestSpec("csv", "GET", "", nil, nil, nil, http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	var got []fetch.Request
	in := "url,name\nhttp://a/1,x\nhttp://a/2,\"oops\nhttp://a/3,y\nhttp://a/4,z\n"
	for req := range spec.requestsContext(context.Background(), strings.NewReader(in), input.Pos{}, nil, nil, nil) {
		got = append(got, req)
	}
	if len(got) != 2 || got[0].Err != nil || got[1].Line != 3 || got[1].Err == nil ||
		!strings.Contains(got[1].Err.Error(), "line 3, column 12") {
		t.Fatalf("requests %+v", got)
	}
	note := spec.endedEarly()
	if !errors.Is(note, input.ErrEndsInput) || !strings.Contains(note.Error(), "line 3, column 12") ||
		!strings.Contains(note.Error(), "lines 4 to 5") {
		t.Fatalf("endedEarly() = %v", note)
	}

	// A whole input: no note.
	spec, _ = newRequestSpec("csv", "GET", "", nil, nil, nil, http.Header{})
	for range spec.requestsContext(context.Background(), strings.NewReader("url\nhttp://a/1\n"), input.Pos{}, nil, nil, nil) {
	}
	if err := spec.endedEarly(); err != nil {
		t.Fatal(err)
	}
}

// The summary of a run whose CSV input was ended by a stray quote says so
// and where.
func TestCSVStrayQuoteSummarySaysTheInputEndedEarly(t *testing.T) {
	srv := upstreamtest.Start(t, upstream.Config{})
	in := "url,name\n" + srv.URL() + "/1,x\n" + srv.URL() + "/2,\"oops\n" + srv.URL() + "/3,y\n"
	file := writeTestFile(t, t.TempDir(), "in.csv", in)
	res := gather(t, "", "fetch", file)
	if res.code != exitSomeFailed || !strings.Contains(res.stderr, "the input ended early") || !strings.Contains(res.stderr, "line 3, column") {
		t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
	}
}
