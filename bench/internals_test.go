//go:build bench

package bench

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// benchPackages hold the Go micro-benchmarks of section 6.
var benchPackages = []string{"fe/lb", "fe/dns", "fe/httpfe", "node/icecast", "node/bandwidth"}

// benchInternals runs the packages' Go benchmarks, one package at a time
// so that one that does not build does not hide the others.
func benchInternals(t *testing.T, res *Results) {
	for _, pkg := range benchPackages {
		out, err := run(context.Background(), 5*time.Minute, "go", "test", "-run", "^$", "-bench", ".", "-benchmem",
			"-benchtime", "300ms", "-count", strconv.Itoa(*runs), "autoradio/"+pkg)
		if err != nil {
			t.Errorf("%s: %v", pkg, err)
			continue
		}
		res.Internals = append(res.Internals, ParseGoBench(pkg, out)...)
	}
}
