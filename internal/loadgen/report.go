package loadgen

import (
	"fmt"
	"io"
	"time"
)

// Report is the outcome of a run.
type Report struct {
	URL string `json:"url"`
	// Listeners is how many listeners the run started.
	Listeners int `json:"listeners"`
	// Connected is how many received a first byte at least once.
	Connected int `json:"connected"`
	// Kept is how many were still receiving at the end of the run.
	Kept int `json:"kept"`
	// Disconnects counts streams that ended before the run did.
	Disconnects int64 `json:"disconnects"`
	// Errors counts connection attempts that failed: no connection, a
	// status other than 200, or no first byte.
	Errors int64 `json:"errors"`
	// ErrorSamples holds a few distinct error messages.
	ErrorSamples []string `json:"error_samples,omitempty"`
	// WindowSeconds is the measurement window: from the end of the ramp-up
	// to the end of the run.
	WindowSeconds float64 `json:"window_seconds"`
	// BytesPerSecond is the rate each kept listener received in the window.
	BytesPerSecond Summary `json:"bytes_per_second"`
	// TotalBytesPerSecond is what all listeners received together.
	TotalBytesPerSecond float64 `json:"total_bytes_per_second"`
	// FirstByteSeconds is the time from a connection attempt to its first
	// body byte, redirects included, over the successful attempts.
	FirstByteSeconds Summary `json:"first_byte_seconds"`
	// Processes reports what the watched server processes used.
	Processes []ProcessReport `json:"processes,omitempty"`
}

// ProcessReport is what a watched set of processes used during a run.
type ProcessReport struct {
	Name string `json:"name"`
	// CPUSeconds is user+system CPU time spent in the window.
	CPUSeconds float64 `json:"cpu_seconds"`
	// CPUSecondsPerListenerMinute is CPUSeconds divided by the kept
	// listeners and the window in minutes.
	CPUSecondsPerListenerMinute float64 `json:"cpu_seconds_per_listener_minute"`
	// RSSKiBBefore is the resident memory before the first listener,
	// RSSKiBAfter at the end of the run.
	RSSKiBBefore float64 `json:"rss_kib_before"`
	RSSKiBAfter  float64 `json:"rss_kib_after"`
	// RSSKiBPerListener is the growth of resident memory per kept listener.
	RSSKiBPerListener float64 `json:"rss_kib_per_listener"`
}

func newProcessReport(name string, before, winStart, end usage, kept int, window time.Duration) ProcessReport {
	pr := ProcessReport{
		Name:         name,
		CPUSeconds:   end.cpuSeconds - winStart.cpuSeconds,
		RSSKiBBefore: before.rssKiB,
		RSSKiBAfter:  end.rssKiB,
	}
	if kept > 0 && window > 0 {
		pr.CPUSecondsPerListenerMinute = pr.CPUSeconds / float64(kept) / window.Minutes()
		pr.RSSKiBPerListener = (end.rssKiB - before.rssKiB) / float64(kept)
	}
	return pr
}

// WriteText writes the report for a person to read.
func (r *Report) WriteText(w io.Writer) error {
	b, ttfb := r.BytesPerSecond, r.FirstByteSeconds
	_, err := fmt.Fprintf(w, `url               %s
listeners         %d started, %d connected, %d kept
disconnects       %d
errors            %d
window            %.1f s
bytes/s/listener  min %.0f  p5 %.0f  median %.0f  max %.0f
total             %.0f bytes/s
first byte        p50 %.3f s  p99 %.3f s  max %.3f s
`, r.URL, r.Listeners, r.Connected, r.Kept, r.Disconnects, r.Errors, r.WindowSeconds,
		b.Min, b.P5, b.Median, b.Max, r.TotalBytesPerSecond, ttfb.Median, ttfb.P99, ttfb.Max)
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	for _, p := range r.Processes {
		fmt.Fprintf(w, "process %-9s cpu %.2f s (%.5f s per listener-minute), rss %.0f -> %.0f KiB (%.1f KiB per listener)\n",
			p.Name, p.CPUSeconds, p.CPUSecondsPerListenerMinute, p.RSSKiBBefore, p.RSSKiBAfter, p.RSSKiBPerListener)
	}
	return err
}
