package transcode

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Status is what a transcoder this node runs is doing. It holds no
// password.
type Status struct {
	Mount  string
	Source string
	Codec  string
	// Master is the Icecast (host:port) liquidsoap pushes to.
	Master string
	// PID of liquidsoap; 0 while it does not run.
	PID int
	// State is "running", or what keeps liquidsoap from running.
	State string
	// Since is when this node won the mount's election.
	Since    time.Time
	Restarts uint64
}

// Transcoders returns the transcoders this node runs, by mount path.
func (m *Manager) Transcoders() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Status
	for path, t := range m.running {
		st := Status{Mount: path, Since: t.since, Restarts: t.restarts()}
		if mt := m.mounts[path]; mt != nil {
			st.Source, st.Codec = mt.Transcoding.SourceName, mt.Transcoding.Codec
		}
		t.mu.Lock()
		st.Master, st.State = t.master, t.state
		if n := len(t.sups); n > 0 {
			st.PID = t.sups[n-1].PID()
		}
		t.mu.Unlock()
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Mount, b.Mount) })
	return out
}

var (
	runningDesc = prometheus.NewDesc("autoradio_transcoder_running",
		"Whether this node runs liquidsoap for a transcoding mount (1) or not (0).", []string{"mount"}, nil)
	restartsDesc = prometheus.NewDesc("autoradio_transcoder_restarts_total",
		"liquidsoap starts on this node after the first of each election won (crash, new master, new parameters).", []string{"mount"}, nil)
	checkFailuresDesc = prometheus.NewDesc("autoradio_transcoder_check_failures_total",
		"Scripts of a transcoding mount that liquidsoap --check refused on this node.", []string{"mount"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Manager) Describe(ch chan<- *prometheus.Desc) {
	ch <- runningDesc
	ch <- restartsDesc
	ch <- checkFailuresDesc
}

// Collect implements prometheus.Collector: every transcoding mount of the
// cluster, and every mount this node ran a transcoder for, has a series.
func (m *Manager) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	paths := map[string]bool{}
	for p := range m.mounts {
		paths[p] = true
	}
	for p := range m.history {
		paths[p] = true
	}
	for p := range paths {
		running, restarts, failures := 0.0, uint64(0), uint64(0)
		if h := m.history[p]; h != nil {
			restarts, failures = h.restarts, h.checkFailures
		}
		if t := m.running[p]; t != nil {
			restarts += t.restarts()
			t.mu.Lock()
			if n := len(t.sups); n > 0 && t.sups[n-1].Running() {
				running = 1
			}
			t.mu.Unlock()
		}
		ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, running, p)
		ch <- prometheus.MustNewConstMetric(restartsDesc, prometheus.CounterValue, float64(restarts), p)
		ch <- prometheus.MustNewConstMetric(checkFailuresDesc, prometheus.CounterValue, float64(failures), p)
	}
}
