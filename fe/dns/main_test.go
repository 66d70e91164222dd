package dns

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if goroutines started by the tests outlive them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
