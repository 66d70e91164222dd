package testenv

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// Slack multiplies the bound of every wait of this package (Eventually,
// Poll, Context). The bounds tests state are what a quiet machine needs;
// a test asserts that a state is reached, not how fast (speed belongs to
// benchmarks), and a machine whose cores are busy with other work is
// several times slower. AUTORADIO_TEST_SLACK (a positive number) sets it.
var Slack = slackFromEnv(os.Getenv("AUTORADIO_TEST_SLACK"), 4)

func slackFromEnv(v string, def float64) float64 {
	if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
		return f
	}
	return def
}

// Bound returns d stretched by Slack: the longest a wait of d may take.
func Bound(d time.Duration) time.Duration { return time.Duration(float64(d) * Slack) }

// Context returns a context that ends after Bound(d), or when the test
// ends.
func Context(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Bound(d))
	t.Cleanup(cancel)
	return ctx
}
