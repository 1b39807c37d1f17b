package proc_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running when
// they end: nothing of a Process may outlive its Wait.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
