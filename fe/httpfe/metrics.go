package httpfe

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Request kinds, the "kind" label of autoradio_http_requests_total.
const (
	kindRedirect = "redirect"
	kindStream   = "stream"
	kindSource   = "source"
	kindPlaylist = "playlist"
	kindStatus   = "status"
	kindMetadata = "metadata"
	kindOther    = "other"
	kindHLS      = "hls" // media playlists and segments
)

// Source connection results, the "result" label of
// autoradio_source_connections_total.
const (
	sourceAccepted   = "accepted"   // Icecast answered 2xx
	sourceRejected   = "rejected"   // refused: wrong credentials, or an error status from Icecast
	sourceFailed     = "failed"     // Icecast unreachable or no valid answer
	sourceNoMaster   = "no_master"  // no master elected: 503
	sourceRedirected = "redirected" // proxy disabled: 307 to the master
	sourceLockedOut  = "locked_out" // too many bad passwords: 429
)

// metrics are the front-end's Prometheus metrics.
type metrics struct {
	requests    *prometheus.CounterVec
	requestsBy  requestCounters // requests' counters, cached
	redirects   *prometheus.CounterVec
	sourceConns *prometheus.CounterVec
	// sourcesDeposed counts forwarded sources closed because the master
	// changed, as they could not be moved to the new one.
	sourcesDeposed prometheus.Counter
	sources        prometheus.Gauge
	sourceBytes    prometheus.Counter
	// sourceAuthFailures counts forwarded sources refused with 401, and
	// sourceLockouts the lockouts they caused.
	sourceAuthFailures prometheus.Counter
	sourceLockouts     prometheus.Counter
	// sourceHoldRetries counts the tries again of sources held while the
	// master's Icecast did not know their mount yet.
	sourceHoldRetries prometheus.Counter
	// sourceReconnects counts accepted sources moved to the master of the
	// moment, by reason; sourceReconnectFailures those ended instead, by
	// cause; sourceDropped the bytes of held sources never forwarded.
	sourceReconnects        *prometheus.CounterVec
	sourceReconnectFailures *prometheus.CounterVec
	sourceDropped           prometheus.Counter
	// sourceTeeEnded counts the ends of tees, the deposed master's
	// Icecast fed on while and after a source moved, by cause.
	sourceTeeEnded *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "http_requests_total",
			Help: "HTTP requests answered by the front-end, by kind and status code.",
		}, []string{"kind", "code"}),
		redirects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "http_redirects_total",
			Help: "Listeners redirected, by target node.",
		}, []string{"node"}),
		sourceConns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "source_connections_total",
			Help: "Source connections, by result (accepted, rejected, failed, no_master, redirected, locked_out).",
		}, []string{"result"}),
		sourcesDeposed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "proxied_sources_deposed_total",
			Help: "Forwarded sources disconnected because their Icecast was no longer the master's, so that they reconnect to the new one: those the front-end could not move there itself (not yet accepted, no frames it can find, or source resume off).",
		}),
		sources: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "autoradio", Name: "proxied_sources",
			Help: "Source connections being forwarded to the master's Icecast.",
		}),
		sourceBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "proxied_source_bytes_total",
			Help: "Bytes forwarded from sources to the master's Icecast.",
		}),
		sourceAuthFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "source_auth_failures_total",
			Help: "Forwarded sources that the master's Icecast refused for bad credentials (401).",
		}),
		sourceLockouts: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "source_lockouts_total",
			Help: "Client addresses locked out after repeated bad source credentials; their sources get 429 meanwhile.",
		}),
		sourceHoldRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "source_hold_retries_total",
			Help: "Tries again of sources held because the master's Icecast answered the mount's right credentials 401 (it had not applied the mount yet).",
		}),
		sourceReconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "source_reconnects_total",
			Help: "Accepted sources held and moved to the master of the moment without their client reconnecting, by reason (master_changed, icecast_lost, write_failed).",
		}, []string{"reason"}),
		sourceReconnectFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "source_reconnect_failures_total",
			Help: "Held sources disconnected instead, by cause (timeout: no master took them in time; refused: the master's Icecast answered otherwise).",
		}, []string{"cause"}),
		sourceDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "source_dropped_bytes_total",
			Help: "Bytes of held sources never forwarded: beyond the backlog, before a point where a decoder can start, or left when the source ended.",
		}),
		sourceTeeEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "autoradio", Name: "source_tee_ended_total",
			Help: "Sources no longer fed to the deposed master's Icecast after a master change, by cause (closed: the old master let go; write_failed: a write to it failed or would block; bound: --source-tee elapsed; master_changed: the master changed again; source_ended: the source ended or could not be moved).",
		}, []string{"cause"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.redirects,
		m.sourceConns, m.sourcesDeposed, m.sources, m.sourceBytes,
		m.sourceAuthFailures, m.sourceLockouts, m.sourceHoldRetries,
		m.sourceReconnects, m.sourceReconnectFailures, m.sourceDropped,
		m.sourceTeeEnded} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("httpfe: registering metrics: %w", err)
		}
	}
	m.requestsBy.vec = m.requests
	for _, r := range []string{reconnectMaster, reconnectLost, reconnectWrite} {
		m.sourceReconnects.WithLabelValues(r)
	}
	for _, c := range []string{teeClosed, teeWriteFailed, teeBound, teeMasterChanged, teeSourceEnded} {
		m.sourceTeeEnded.WithLabelValues(c)
	}
	for _, c := range []string{"timeout", "refused"} {
		m.sourceReconnectFailures.WithLabelValues(c)
	}
	for _, r := range []string{sourceAccepted, sourceRejected, sourceFailed, sourceNoMaster, sourceRedirected, sourceLockedOut} {
		m.sourceConns.WithLabelValues(r)
	}
	return m, nil
}
