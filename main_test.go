package gather_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running when
// they end: nothing in gather may outlive its owner.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
