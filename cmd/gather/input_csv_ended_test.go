package main

import (
	"strings"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

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
