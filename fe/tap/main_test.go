package tap

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if goroutines outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
