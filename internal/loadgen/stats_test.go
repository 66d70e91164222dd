package loadgen

import (
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {5, 1}, {10, 1}, {11, 2}, {50, 5}, {51, 6}, {99, 10}, {100, 10},
	} {
		if got := Percentile(sorted, tc.p); got != tc.want {
			t.Errorf("Percentile(1..10, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("Percentile of nothing is not NaN")
	}
}

func TestSummarize(t *testing.T) {
	got := Summarize([]float64{5, 3, 9, 1, 7})
	want := Summary{N: 5, Min: 1, P5: 1, Median: 5, P99: 9, Max: 9}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if got := Summarize(nil); got != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v", got)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseStat(t *testing.T) {
	// A real /proc/<pid>/stat line, with a command name holding a space
	// and a parenthesis.
	line := "4242 (icecast2 (x)) S 1 4242 4242 0 -1 4194560 1180 0 0 0 " +
		"157 43 0 0 20 0 3 0 123456 98304000 2345 18446744073709551615 1 1 0 0 0 0 0 4096 17920 0 0 0 17 1 0 0 0 0 0\n"
	ticks, rss, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if ticks != 200 || rss != 2345 {
		t.Errorf("parseStat = %d ticks, %d pages; want 200, 2345", ticks, rss)
	}
	if _, _, err := parseStat([]byte("1 (x) S 1 2")); err == nil {
		t.Error("parseStat accepted a short line")
	}
}

func TestNewProcessReport(t *testing.T) {
	before := usage{cpuSeconds: 1, rssKiB: 1000}
	win := usage{cpuSeconds: 2, rssKiB: 2000}
	end := usage{cpuSeconds: 5, rssKiB: 3000}
	// 3 CPU-seconds for 10 listeners over 30 s: 0.6 s per listener-minute.
	pr := newProcessReport("p", before, win, end, 10, 30e9)
	if pr.CPUSeconds != 3 || math.Abs(pr.CPUSecondsPerListenerMinute-0.6) > 1e-9 || pr.RSSKiBPerListener != 200 {
		t.Errorf("newProcessReport = %+v", pr)
	}
}
