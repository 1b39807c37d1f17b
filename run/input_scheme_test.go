package run

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gogather/gather/fetch"
	"github.com/gogather/gather/input"
)

// A URL taken as it is from the input without a scheme says what is
// missing, not Go's parse error; the record keeps the URL as given. A URL
// with another scheme is left to the engine (which refuses it), and so is
// a URL made by a template.
func TestInputURLWithoutScheme(t *testing.T) {
	in := "example.com/x\nlocalhost:8080/y\n1.2.3.4:80/z\n//h/p\nexample.com/r?to=http://x\nHTTPS://a/ok\nftp://a/f\n"
	for _, tc := range []struct {
		name, format, input string
		headers             []string
	}{
		{"plain lines", "lines", in, nil},
		{"lines as records", "lines", in, []string{"X: ${{ .url }}"}},
		{"csv url column", "csv", "url\n" + in, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := newRequestSpec(tc.format, "GET", "", tc.headers, nil, nil, http.Header{})
			if err != nil {
				t.Fatal(err)
			}
			var got []fetch.Request
			for req := range spec.requestsContext(context.Background(), strings.NewReader(tc.input), input.Pos{}, nil, nil, nil) {
				got = append(got, req)
			}
			if len(got) != 7 {
				t.Fatalf("%d requests", len(got))
			}
			for i, req := range got {
				missing := req.Err != nil && strings.Contains(req.Err.Error(), "missing http:// or https://")
				if want := i < 5; missing != want || (i >= 5 && req.Err != nil) {
					t.Errorf("line %d %q: %v", req.Line, req.URL, req.Err)
				}
				if req.URL == "" {
					t.Errorf("line %d: the record has no URL", req.Line)
				}
			}
		})
	}
	// A template makes the URL: a line is data, not a URL.
	spec, _ := newRequestSpec("lines", "GET", "https://a/${{ .url }}", nil, nil, nil, http.Header{})
	for req := range spec.requestsContext(context.Background(), strings.NewReader("42\n"), input.Pos{}, nil, nil, nil) {
		if req.Err != nil || req.URL != "https://a/42" {
			t.Fatalf("%+v", req)
		}
	}
}
