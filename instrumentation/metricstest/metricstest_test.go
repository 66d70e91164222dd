package metricstest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestProblemsFindsBadNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "autoradio_reloads", Help: "Reloads.", // a counter without _total
	}))
	problems, err := Problems(reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) == 0 || problems[0].Metric != "autoradio_reloads" {
		t.Errorf("problems %v, want one about autoradio_reloads", problems)
	}
}

func TestLintAndValue(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "autoradio_test_requests_total", Help: "Requests.",
	}, []string{"kind", "code"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "autoradio_test_up", Help: "Up."})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "autoradio_test_latency_seconds", Help: "Latency."})
	reg.MustRegister(c, g, h)
	c.WithLabelValues("redirect", "302").Add(3)
	c.WithLabelValues("redirect", "404").Inc()
	g.Set(1)
	h.Observe(0.1)
	h.Observe(0.2)

	Lint(t, reg)
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"autoradio_test_requests_total", []string{"kind", "redirect", "code", "302"}, 3},
		{"autoradio_test_requests_total", []string{"code", "404"}, 1},
		{"autoradio_test_up", nil, 1},
		{"autoradio_test_latency_seconds", nil, 2},
	} {
		if got := Value(t, reg, tt.name, tt.labels...); got != tt.want {
			t.Errorf("Value(%s, %v) = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}
