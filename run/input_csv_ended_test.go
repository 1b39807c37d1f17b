package run

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
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
