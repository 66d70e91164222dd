// Package metricstest helps tests check the metrics a package registers:
// Lint fails a test on metric names and types that break Prometheus
// conventions, Value reads one series.
package metricstest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// Problems gathers g and returns what the Prometheus linter (the one
// behind testutil.GatherAndLint and promtool check metrics) objects to.
func Problems(g prometheus.Gatherer) ([]promlint.Problem, error) {
	mfs, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("metricstest: gather: %w", err)
	}
	return promlint.NewWithMetricFamilies(mfs).Lint()
}

// Lint fails t for every lint problem of the metrics in g. Metrics with
// vector labels appear only once a series exists: set or increment one of
// each before linting.
func Lint(t testing.TB, g prometheus.Gatherer) {
	t.Helper()
	problems, err := Problems(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
}

// Value returns the value of the series of metric name whose labels include
// labelPairs ("label", "value", ...): counters, gauges and untyped metrics
// give their value, histograms and summaries their sample count. It fails
// t when there is no such series.
func Value(t testing.TB, g prometheus.Gatherer, name string, labelPairs ...string) float64 {
	t.Helper()
	if len(labelPairs)%2 != 0 {
		t.Fatalf("metricstest: odd label pairs %q", labelPairs)
	}
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("metricstest: gather: %v", err)
	}
	i := slices.IndexFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == name })
	if i < 0 {
		t.Fatalf("metricstest: no metric %s", name)
	}
	for _, m := range mfs[i].GetMetric() {
		if hasLabels(m, labelPairs) {
			return value(m)
		}
	}
	t.Fatalf("metricstest: no series %s{%s}", name, strings.Join(labelPairs, ","))
	return 0
}

func hasLabels(m *dto.Metric, pairs []string) bool {
	for i := 0; i < len(pairs); i += 2 {
		if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
			return l.GetName() == pairs[i] && l.GetValue() == pairs[i+1]
		}) {
			return false
		}
	}
	return true
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	case m.Summary != nil:
		return float64(m.GetSummary().GetSampleCount())
	default:
		return m.GetUntyped().GetValue()
	}
}
