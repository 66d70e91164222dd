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

// benchSkip leaves out benchmarks that take many seconds an op and that a
// section of the bench runs (httpfe's proxied and HLS listeners: the
// fan-out measures the former end to end, and the hls section sets them
// side by side).
const benchSkip = "ProxiedListeners|HLSListeners"

// benchInternals runs the packages' Go benchmarks, one package at a time
// so that one that does not build does not hide the others.
func benchInternals(t *testing.T, res *Results) {
	for _, pkg := range benchPackages {
		out, err := run(context.Background(), 5*time.Minute, "go", "test", "-run", "^$", "-bench", ".", "-benchmem",
			"-benchtime", "300ms", "-skip", benchSkip, "-count", strconv.Itoa(*runs), "autoradio/"+pkg)
		if err != nil {
			t.Errorf("%s: %v", pkg, err)
			continue
		}
		res.Internals = append(res.Internals, ParseGoBench(pkg, out)...)
	}
}

// benchHLS runs httpfe's benchmarks of proxied and HLS listeners, one op
// each per run, so that they are measured side by side.
func benchHLS(t *testing.T, res *Results) {
	out, err := run(context.Background(), time.Duration(*runs)*3*time.Minute, "go", "test", "-run", "^$",
		"-bench", "^Benchmark(ProxiedListeners|HLSListeners)$", "-benchtime", "1x", "-count", strconv.Itoa(*runs), "autoradio/fe/httpfe")
	if err != nil {
		t.Fatalf("fe/httpfe: %v", err)
	}
	res.HLS = ParseGoBench("fe/httpfe", out)
	if len(res.HLS) != 2 {
		t.Fatalf("fe/httpfe: %d benchmarks in\n%s", len(res.HLS), out)
	}
}
