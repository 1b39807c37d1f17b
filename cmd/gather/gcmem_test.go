package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/gogather/gather/internal/upstream"
	"github.com/gogather/gather/internal/upstream/upstreamtest"
)

// With bodies kept in memory (text, base64) the run sets a soft memory
// limit of 2 x -c x --max-body (at least 64 MiB), so that the garbage
// collector's slack does not take RSS past about 3x the bodies in flight;
// a body policy that keeps nothing sets none, and GOMEMLIMIT wins.
func TestKeptBodiesSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	srv := upstreamtest.Start(t, upstream.Config{})
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{[]string{"--body", "text", "-c", "8", "--max-body", "9000000"}, 2 * 8 * 9000000},
		{[]string{"--body", "base64", "-c", "16", "--max-body", "10MiB"}, 2 * 16 * 10 << 20},
		{[]string{"--body", "text", "-c", "1", "--max-body", "1k"}, 64 << 20},
		{[]string{"--body", "hash", "-c", "8"}, math.MaxInt64},
	} {
		debug.SetMemoryLimit(math.MaxInt64)
		args := append([]string{"fetch", "-q"}, tc.args...)
		if res := runIn(t, srv.URL()+"/x\n", args...); res.code != exitOK {
			t.Fatalf("%v: exit %d: %s", tc.args, res.code, res.stderr)
		}
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("%v: memory limit %d, want %d", tc.args, got, tc.want)
		}
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(math.MaxInt64)
	if res := runIn(t, srv.URL()+"/x\n", "fetch", "-q", "--body", "text", "-c", "8"); res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("with GOMEMLIMIT set: memory limit %d, want it left alone", got)
	}
}
