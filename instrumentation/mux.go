package instrumentation

import (
	"context"
	"fmt"
	"net/http"
	"net/http/pprof"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MonitorConfig describes the monitoring endpoints of a daemon.
type MonitorConfig struct {
	// Gatherer provides /metrics. Default: a NewRegistry.
	Gatherer prometheus.Gatherer
	// Health answers /healthz: nil error means healthy. Default: always
	// healthy. It must not put secrets in its errors: they are shown.
	Health func(ctx context.Context) error
	// HealthTimeout bounds one health check. Default: 5s.
	HealthTimeout time.Duration
	// Debug handlers are mounted at /debug/<key>, e.g. "state" at
	// /debug/state; /debug/ lists them. net/http/pprof is always at
	// /debug/pprof/.
	Debug map[string]http.Handler
}

// NewMonitorMux returns a mux serving /metrics, /healthz, /debug/ (an
// index of the debug handlers), /debug/pprof/ and cfg.Debug. Callers may
// add more handlers to it. The monitoring address should not be public:
// pprof and debug handlers reveal internals.
func NewMonitorMux(cfg MonitorConfig) *http.ServeMux {
	if cfg.Gatherer == nil {
		cfg.Gatherer = NewRegistry()
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 5 * time.Second
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler(cfg.Gatherer))
	mux.Handle("GET /healthz", healthHandler(cfg.Health, cfg.HealthTimeout))
	names := []string{"pprof/"}
	for name, h := range cfg.Debug {
		mux.Handle("/debug/"+name, h)
		names = append(names, name)
	}
	sort.Strings(names)
	mux.Handle("GET /debug/{$}", debugIndex(names))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// healthHandler answers 200 "ok" when health passes, 503 with the error
// otherwise.
func healthHandler(health func(context.Context) error, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if health != nil {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			if err := health(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, "unhealthy: %v\n", err)
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
}

func debugIndex(names []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for _, n := range names {
			fmt.Fprintf(w, "/debug/%s\n", n)
		}
	})
}
