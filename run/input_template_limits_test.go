package run

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
	"github.com/gogather/gather/template"
)

// A template that never ends is stopped by the run's context: once it is
// cancelled (Ctrl-C) the record being filled is not yielded (it would be
// a bad_input it is not) and reading ends.
func TestRequestsTemplateStoppedByContext(t *testing.T) {
	for _, flags := range []struct{ url, header, data string }{
		{url: "http://a/${{ [repeat(1)] | length }}"},
		{header: "X: ${{ def f: f; f }}"},
		{data: "${{ [repeat(1)] | length }}"},
	} {
		var headers []string
		if flags.header != "" {
			headers = []string{flags.header}
		}
		var data []byte
		if flags.data != "" {
			data = []byte(flags.data)
		}
		spec, err := newRequestSpec("lines", "GET", flags.url, headers, data, nil, http.Header{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var taken []int
		take := func(num int, _ input.Pos) bool {
			taken = append(taken, num)
			cancel() // Ctrl-C while the record is filled
			return true
		}
		var got []fetch.Request
		for req := range spec.requestsContext(ctx, strings.NewReader("http://a/1\nhttp://a/2\n"), input.Pos{}, nil, take, nil) {
			got = append(got, req)
		}
		if len(got) != 0 || len(taken) != 1 {
			t.Fatalf("%+v: %d requests (%+v), %d taken; want none yielded, one taken", flags, len(got), got, len(taken))
		}
	}
}

// Past the template's time limit, the record is bad_input and the input
// goes on.
func TestRequestsTemplateTimeLimit(t *testing.T) {
	spec, err := newRequestSpec("jsonl", "GET", "http://a/${{ if .slow then ([repeat(1)] | length) else .id end }}", nil, nil, nil, http.Header{})
	if err != nil {
		t.Fatal(err)
	}
	var got []fetch.Request
	for req := range spec.requestsContext(context.Background(), strings.NewReader("{\"slow\":true}\n{\"id\":2}\n"), input.Pos{}, nil, nil, nil) {
		got = append(got, req)
	}
	if len(got) != 2 || !errors.Is(got[0].Err, template.ErrTimeLimit) || got[1].Err != nil || got[1].URL != "http://a/2" {
		t.Fatalf("%+v", got)
	}
}
