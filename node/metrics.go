package node

import (
	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "autoradio"

// metrics is built at scrape time from the node's last measured status, so
// that deleted mounts disappear from /metrics with them.
type metrics struct {
	n *Node

	up, master, listeners, maxListeners, bandwidth, bandwidthLimit, reloads, restarts, stuck, unreadable, silenceFeeds *prometheus.Desc
	mountListeners, mountSource                                                                                        *prometheus.Desc
}

func newMetrics(n *Node) *metrics {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return &metrics{
		n:              n,
		up:             d("icecast_up", "Whether the local Icecast answers (1) or not (0)."),
		master:         d("is_master", "Whether this node is the Icecast master (1) or a relay (0)."),
		listeners:      d("listeners", "Listeners on this node, relays excluded."),
		maxListeners:   d("max_listeners", "Listeners this node takes at most (radiod --max-listeners); the front-ends send no more beyond."),
		bandwidth:      d("bandwidth_bytes_per_second", "Outgoing bandwidth of the measured interfaces."),
		bandwidthLimit: d("bandwidth_limit_bytes_per_second", "Outgoing bandwidth above which the front-ends send no more listeners here (radiod --bwlimit); 0: no limit."),
		reloads:        d("icecast_config_reloads_total", "Icecast reloads: one per config change, and one more after a change that stops or re-points relays, which checks that Icecast is not stuck."),
		restarts:       d("icecast_restarts_total", "Icecast starts after the first one."),
		stuck:          d("icecast_stuck_restarts_total", "Icecast restarts because it stopped applying its config (a deadlocked relay thread)."),
		unreadable:     d("icecast_status_unreadable_total", "Polls of the local Icecast whose status answer did not parse (the last readable status was kept)."),
		silenceFeeds:   d("icecast_silence_feeds", "Live silence mounts radiod is feeding to the local Icecast: when all is well, one per mount without a fallback of its own, whose listeners hear that silence while the mount has no source."),
		mountListeners: d("mount_listeners", "Listeners of a mount on this node, relays excluded.", "mount"),
		mountSource:    d("mount_source_connected", "Whether a mount has a live source on this node.", "mount"),
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.up, m.master, m.listeners, m.maxListeners, m.bandwidth, m.bandwidthLimit, m.reloads, m.restarts, m.stuck, m.unreadable, m.silenceFeeds, m.mountListeners, m.mountSource} {
		ch <- d
	}
	m.n.transcoders.Describe(ch)
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ic := m.n.icecast.Stats()
	ch <- prometheus.MustNewConstMetric(m.reloads, prometheus.CounterValue, float64(ic.Reloads))
	ch <- prometheus.MustNewConstMetric(m.restarts, prometheus.CounterValue, float64(ic.Restarts))
	ch <- prometheus.MustNewConstMetric(m.stuck, prometheus.CounterValue, float64(ic.StuckRestarts))
	ch <- prometheus.MustNewConstMetric(m.unreadable, prometheus.CounterValue, float64(ic.UnreadableStatus))
	gauge(m.silenceFeeds, float64(ic.SilenceFeeds))
	m.n.transcoders.Collect(ch)
	st := m.n.status.Current()
	if st == nil {
		return
	}
	gauge(m.up, boolFloat(st.IcecastOK))
	gauge(m.master, boolFloat(st.IsMaster))
	gauge(m.listeners, float64(st.Listeners))
	gauge(m.maxListeners, float64(st.MaxListeners))
	gauge(m.bandwidth, st.BandwidthBps/8)
	gauge(m.bandwidthLimit, st.BandwidthLimitBps/8)
	for _, ms := range st.Mounts {
		gauge(m.mountListeners, float64(ms.Listeners), ms.Name)
		gauge(m.mountSource, boolFloat(ms.SourceConnected), ms.Name)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
