// Package e2e runs the real radiod and redirectord binaries, each node on
// its own loopback address, against a real etcd, with real icecast2,
// liquidsoap and ffmpeg: the tests of what the daemons do together. Unit
// tests stay beside the code they test; tests that need network
// namespaces (partitions, killed hosts) are in test/cluster.
package e2e

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"autoradio/internal/testenv"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		testenv.Cleanup()
		os.Exit(code)
	}))
}
