// Package upstreamtest starts the local upstream (package upstream) for
// tests, in the spirit of net/http/httptest: one helper shared by every
// test package instead of a copy in each.
package upstreamtest

import (
	"testing"

	"github.com/gogather/gather/internal/upstream"
)

// Start starts a local upstream with cfg on a free loopback port and
// closes it when the test (or benchmark) and its subtests end, failing
// the test if it cannot start or if Close reports an error. Close leaves
// no goroutine behind, so goleak checks in the calling package hold.
func Start(t testing.TB, cfg upstream.Config) *upstream.Server {
	t.Helper()
	srv, err := upstream.Start(cfg)
	if err != nil {
		t.Fatalf("upstreamtest: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("upstreamtest: Close: %v", err)
		}
	})
	return srv
}
