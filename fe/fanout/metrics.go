package fanout

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the fan-out's Prometheus metrics.
type metrics struct {
	streams       prometheus.Gauge
	streamBytes   prometheus.Counter
	upstreams     prometheus.Gauge
	slowListeners prometheus.Counter
	moves         *prometheus.CounterVec
	splices       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "autoradio", Name: "proxied_streams",
			Help: "Listeners being streamed a mount from the local Icecast.",
		}),
		streamBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "proxied_stream_bytes_total",
			Help: "Bytes sent to listeners of proxied streams.",
		}),
		upstreams: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "autoradio", Name: "proxied_upstreams",
			Help: "Connections to the local Icecast shared by the proxied listeners of a mount.",
		}),
		slowListeners: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "proxied_slow_listeners_total",
			Help: "Proxied listeners disconnected for falling behind the stream.",
		}),
		moves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "proxied_upstream_moves_total",
			Help: "Feeds of proxied streams moved to another node's Icecast (to=\"other\") while the local one, or the node they read, did not serve the mount live (it failed, or stepped aside for a handover), and back to the local one (to=\"local\").",
		}, []string{"to"}),
		splices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "proxied_splices_total",
			Help: "New upstream connections of proxied streams joined to the old: right after its end (how=\"overlap\", seamless) or at the first join point (how=\"join\", audio was lost).",
		}, []string{"how"}),
	}
	for _, c := range []prometheus.Collector{m.streams, m.streamBytes, m.upstreams, m.slowListeners, m.moves, m.splices} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("fanout: registering metrics: %w", err)
		}
	}
	return m, nil
}
