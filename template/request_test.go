package template_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gogather/gather/template"
)

// Every request carries the headers, constant ones included, so that a
// library user of Requests sends them without copying them anywhere; a
// name with a varying value is filled per record with all its values.
func TestRequestsCarryEveryHeader(t *testing.T) {
	reqs, err := template.NewRequests(template.RequestSpec{
		URL:     "http://a/${{ .id }}",
		Headers: []string{"Authorization: Bearer x", "X-Id: ${{ .id }}", "X-Id: fixed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, ok := reqs.Request(context.Background(), 3, map[string]any{"id": "7"})
	if !ok || req.Err != nil || req.URL != "http://a/7" || req.Method != "GET" {
		t.Fatalf("%+v", req)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer x" {
		t.Errorf("Authorization %q", got)
	}
	if got := req.Header.Values("X-Id"); len(got) != 2 || got[0] != "7" || got[1] != "fixed" {
		t.Errorf("X-Id %q", got)
	}
	plain, _ := template.NewRequests(template.RequestSpec{Headers: []string{"Authorization: Bearer y"}})
	if r := plain.PlainRequest(1, " http://b/ "); r.URL != "http://b/" || r.Header.Get("Authorization") != "Bearer y" || r.Err != nil {
		t.Errorf("plain %+v", r)
	}
	// The shared constant headers are not changed by a request's own.
	if got := reqs.Header().Values("X-Id"); len(got) != 0 {
		t.Errorf("constant headers %v", reqs.Header())
	}
}

// A record without a url field and no URL template, or a URL without a
// scheme, is a bad input naming the input; a template's error names its
// part by the labels.
func TestRequestsBadInputs(t *testing.T) {
	reqs, _ := template.NewRequests(template.RequestSpec{Labels: template.Labels{URL: "--url"}})
	if r, _ := reqs.Request(context.Background(), 1, map[string]any{"id": 1}); r.Err == nil || !strings.Contains(r.Err.Error(), "--url") {
		t.Errorf("no url field: %v", r.Err)
	}
	if r, _ := reqs.Request(context.Background(), 1, map[string]any{"url": "example.com/x"}); !errors.Is(r.Err, template.ErrNoScheme) {
		t.Errorf("no scheme: %v", r.Err)
	}
	tmpl, _ := template.NewRequests(template.RequestSpec{URL: "http://a/${{ error(\"boom\") }}", Labels: template.Labels{URL: "--url"}})
	if r, _ := tmpl.Request(context.Background(), 1, nil); r.Err == nil || !strings.Contains(r.Err.Error(), "--url") {
		t.Errorf("failing template: %v", r.Err)
	}
	if _, err := template.NewRequests(template.RequestSpec{Headers: []string{"no colon"}, Labels: template.Labels{Header: "-H"}}); err == nil || !strings.Contains(err.Error(), "-H") {
		t.Errorf("bad header: %v", err)
	}
}

// A sensitive header's template that fails says where, never the values
// its expression's message would quote.
func TestSensitiveHeaderTemplateErrorHidesValues(t *testing.T) {
	reqs, _ := template.NewRequests(template.RequestSpec{URL: "http://a/", Headers: []string{"Authorization: Bearer ${{ .token | tonumber }}", "X-Plain: ${{ .token | tonumber }}"}, Labels: template.Labels{Header: "-H"}})
	r, _ := reqs.Request(context.Background(), 1, map[string]any{"token": "SECRETTOKEN12345"})
	if r.Err == nil || strings.Contains(r.Err.Error(), "SECRETTOKEN") || !strings.Contains(r.Err.Error(), "-H Authorization") || !strings.Contains(r.Err.Error(), "column") {
		t.Errorf("Authorization: %v", r.Err)
	}
	reqs, _ = template.NewRequests(template.RequestSpec{URL: "http://a/", Headers: []string{"X-Plain: ${{ .token | tonumber }}"}})
	if r, _ := reqs.Request(context.Background(), 1, map[string]any{"token": "VISIBLE"}); r.Err == nil || !strings.Contains(r.Err.Error(), "VISIBLE") {
		t.Errorf("a header that is no secret keeps its message: %v", r.Err)
	}
}
