// Package instrumentation holds what radiod and redirectord share for
// monitoring: a Prometheus registry with the Go and process collectors,
// the metrics namespace, and the monitoring HTTP server (/metrics,
// /healthz, /debug/).
//
// Metrics live in the packages that produce them; they register on a
// prometheus.Registerer passed in, never on the global registry.
package instrumentation

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every autoradio metric: autoradio_<subsystem>_<name>.
const Namespace = "autoradio"

// scrapeTimeout bounds one scrape of /metrics.
const scrapeTimeout = 10 * time.Second

// NewRegistry returns a registry holding the Go runtime and process
// collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler serves the metrics of g in the Prometheus exposition formats. A
// collector that fails does not hide the others' metrics.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       scrapeTimeout,
	})
}
