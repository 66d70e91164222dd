package httpfe

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if goroutines of this package outlive the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForLeaks(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitForLeaks returns the stacks of goroutines still running code of this
// package (tests excluded) after up to d.
func waitForLeaks(d time.Duration) string {
	end := time.Now().Add(d)
	for {
		leaked := packageGoroutines()
		if leaked == "" || time.Now().After(end) {
			return leaked
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func packageGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var leaked []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "autoradio/fe/httpfe.") && !strings.Contains(g, "TestMain") &&
			!strings.Contains(g, "_test.go") {
			leaked = append(leaked, g)
		}
	}
	return strings.Join(leaked, "\n\n")
}
