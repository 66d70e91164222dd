package hls

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are HLS's Prometheus metrics.
type metrics struct {
	streams  prometheus.Gauge
	segments prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, sessions func() float64) (*metrics, error) {
	m := &metrics{
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "autoradio", Name: "hls_segmenters",
			Help: "Mounts being cut into HLS segments.",
		}),
		segments: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "hls_segments_total",
			Help: "HLS segments cut.",
		}),
	}
	cs := []prometheus.Collector{m.streams, m.segments,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "autoradio", Name: "hls_sessions",
			Help: "Live HLS sessions (listeners) of every mount.",
		}, sessions)}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("hls: registering metrics: %w", err)
		}
	}
	return m, nil
}
