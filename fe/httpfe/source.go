package httpfe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"autoradio/fe/authguard"
)

// serveSource forwards a source to the master's Icecast, or, with the
// proxy disabled, redirects a PUT source there; not a chunked one, which
// Icecast would not de-chunk.
func (h *Handler) serveSource(w *recorder, r *http.Request, mount string) {
	m := h.knownMount(w, r, mount)
	if m == nil {
		return
	}
	master, ok := h.cluster.Master()
	if !ok || len(master.IPs) == 0 {
		h.metrics.sourceConns.WithLabelValues(sourceNoMaster).Inc()
		h.unavailable(w, "no Icecast master is elected")
		return
	}
	if h.cfg.DisableProxy && r.Method == http.MethodPut && len(r.TransferEncoding) == 0 {
		h.metrics.sourceConns.WithLabelValues(sourceRedirected).Inc()
		w.Header().Set("Location", "http://"+master.IcecastAddr()+mount)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	key, ok := h.allowCredentials(w, r)
	if !ok {
		h.metrics.sourceConns.WithLabelValues(sourceLockedOut).Inc()
		return
	}
	if !sourceAuthorized(r, m) {
		h.refuseSource(w, r, key)
		return
	}
	h.forwardSource(w, r, mount, key)
}

// refuseSource answers a source without the mount's credentials 401, as
// Icecast would, without asking it: a 401 from Icecast then only means
// that the master has not applied the mount's configuration yet (a new
// mount, a new master), which is no guess. A wrong password counts
// against the address; none at all does not.
func (h *Handler) refuseSource(w http.ResponseWriter, r *http.Request, key string) {
	h.metrics.sourceConns.WithLabelValues(sourceRejected).Inc()
	if _, _, sent := r.BasicAuth(); sent {
		h.badCredentials(h.log.With("mount", r.URL.Path, "remote", r.RemoteAddr), key)
	} else {
		h.guard.Inconclusive(key)
	}
	// The source's stream may follow at once: nothing after it can be
	// read as a request.
	w.Header().Set("Connection", "close")
	w.Header().Set("WWW-Authenticate", icecastRealm)
	http.Error(w, "You need to authenticate", http.StatusUnauthorized)
}

// allowCredentials asks the guard whether r's address may try source
// credentials now, and answers 429 when it may not. Every attempt
// allowed must end with the guard told how it went (badCredentials,
// Succeeded or Inconclusive).
func (h *Handler) allowCredentials(w http.ResponseWriter, r *http.Request) (key string, ok bool) {
	key = clientKey(r)
	wait, ok := h.guard.Allow(key)
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		http.Error(w, "too many bad source passwords from this address, try again later", http.StatusTooManyRequests)
	}
	return key, ok
}

// badCredentials counts a wrong source password from client and tells the
// guard; only a lockout is logged, so that guessing cannot flood the log.
func (h *Handler) badCredentials(log *slog.Logger, client string) {
	h.metrics.sourceAuthFailures.Inc()
	log.Debug("source: bad credentials")
	if lock := h.guard.Failed(client); lock > 0 {
		h.metrics.sourceLockouts.Inc()
		log.Warn("source: too many bad credentials, client locked out", "client", client, "for", lock)
	}
}

// clientKey names the client's address for the guard (see
// authguard.AddrKey).
func clientKey(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr // not TCP: a test's listener
	}
	return authguard.AddrKey(ap.Addr())
}

// forwardSource connects to the master's Icecast (holding the source
// while the master does not know the mount yet, see connectUpstream),
// hijacks the client's connection and forwards bytes both ways until
// either side is done. It tells the guard how the attempt from key ended.
func (h *Handler) forwardSource(w *recorder, r *http.Request, mount string, key string) {
	answered := false
	defer func() {
		if !answered {
			h.guard.Inconclusive(key)
		}
	}()
	up, err := h.connectUpstream(r.Context(), r, mount)
	if err != nil {
		h.upstreamFailed(w, r, mount, err)
		return
	}
	log := h.log.With("mount", mount, "master", up.master.Name, "remote", r.RemoteAddr)
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.conn.Close()
		h.metrics.sourceConns.WithLabelValues(sourceFailed).Inc()
		log.Error("source: hijacking the connection", "err", err)
		http.Error(w, "cannot forward a source here", http.StatusInternalServerError)
		return
	}
	fw := &forward{
		client:   client,
		clientIn: brw.Reader,
		chunked:  len(r.TransferEncoding) > 0, // Go's server accepts only chunked
		idle:     h.cfg.SourceIdleTimeout,
		respWait: h.cfg.ResponseTimeout,
		elected: func() (string, bool) {
			m, ok := h.cluster.Master()
			if !ok {
				return "", false
			}
			return m.Name, true
		},
		backlog:     backlogLimits{audio: h.cfg.SourceBacklog},
		mount:       mount,
		contentType: r.Header.Get("Content-Type"),
		bufs:        h.bufs,
		m:           h.metrics,
		log:         log,
		onResponse: func(code int) {
			answered = true
			h.sourceAnswered(log, key, code)
		},
	}
	if h.cfg.SourceResume > 0 {
		fw.resume = func(ctx context.Context) (*upstream, error) {
			return h.resumeUpstream(ctx, r, mount)
		}
		fw.teeFor = max(h.cfg.SourceTee, 0)
	}
	if h.cfg.NodeName != "" {
		fw.taps = h.taps
	}
	fw.init(up)
	if !h.sources.Add(fw) {
		fw.Close()
		h.metrics.sourceConns.WithLabelValues(sourceFailed).Inc()
		return
	}
	defer h.sources.Done(fw)
	h.metrics.sources.Inc()
	defer h.metrics.sources.Dec()
	code, err := fw.run(up)
	if code == 0 {
		code = http.StatusBadGateway
	}
	w.setStatus(code)
	if errors.Is(err, errDeposed) {
		h.metrics.sourcesDeposed.Inc()
		log.Info("source: disconnected, its Icecast is no longer the master's", "bytes", fw.sent.Load())
		return
	}
	var unexpected *unexpectedAnswer
	if errors.Is(err, errNoResume) || errors.As(err, &unexpected) {
		h.metrics.sourceReconnectFailures.WithLabelValues(reconnectFailure(err)).Inc()
		log.Warn("source: disconnected, it could not be moved to the master of the moment", "err", err, "bytes", fw.sent.Load())
		return
	}
	if errors.Is(err, errBadChunk) {
		log.Warn("source: disconnected, its chunked stream is malformed", "err", err, "bytes", fw.sent.Load())
		return
	}
	// Refused sources are logged when locked out, not one by one.
	level := slog.LevelInfo
	if sourceResult(code) != sourceAccepted {
		level = slog.LevelDebug
	}
	log.Log(r.Context(), level, "source: forwarding ended", "code", code, "bytes", fw.sent.Load())
}

// upstreamFailed answers a source whose head the master's Icecast did
// not answer: 503 without a master, 502 otherwise.
func (h *Handler) upstreamFailed(w http.ResponseWriter, r *http.Request, mount string, err error) {
	log := h.log.With("mount", mount, "remote", r.RemoteAddr)
	if errors.Is(err, errNoMaster) {
		h.metrics.sourceConns.WithLabelValues(sourceNoMaster).Inc()
		h.unavailable(w, "no Icecast master is elected")
		return
	}
	h.metrics.sourceConns.WithLabelValues(sourceFailed).Inc()
	if r.Context().Err() != nil {
		log.Debug("source: gone while held", "err", err)
		return
	}
	log.Warn("source: connecting to the master's Icecast", "err", err)
	http.Error(w, "cannot reach the master's Icecast", http.StatusBadGateway)
}

// sourceAnswered counts Icecast's answer to a source from client (0: none)
// and tells the guard. A 401 is logged only when it locks client out, so
// that guessing cannot flood the log.
func (h *Handler) sourceAnswered(log *slog.Logger, client string, code int) {
	h.metrics.sourceConns.WithLabelValues(sourceResult(code)).Inc()
	switch {
	case code == http.StatusUnauthorized:
		// The front-end checked the credentials: the master does not
		// know the mount yet.
		h.guard.Inconclusive(client)
		log.Warn("source: the master's Icecast refused the mount's credentials (it has not applied the mount's configuration yet)")
		return
	case sourceResult(code) == sourceAccepted:
		h.guard.Succeeded(client)
	default:
		h.guard.Inconclusive(client)
	}
	log.Info("source: Icecast answered", "code", code)
}

func (h *Handler) dialMaster(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: h.cfg.DialTimeout}
	return d.DialContext(ctx, "tcp", addr)
}

// sourceResult maps Icecast's final status (0: none) to a result label.
func sourceResult(code int) string {
	switch {
	case code >= 200 && code < 300:
		return sourceAccepted
	case code >= 300:
		return sourceRejected
	}
	return sourceFailed
}

// sourceHeaders are passed to Icecast besides ice-* and icy-* headers. Host
// is rewritten; Authorization is passed through, never logged.
var sourceHeaders = []string{"Authorization", "Content-Type", "Content-Length",
	"User-Agent", "Expect"}

// sourceRequestHead rebuilds the request line and headers for Icecast;
// when resumed (a source moved to another Icecast), without Expect, which
// it need not wait for, and Content-Length, which no longer holds. Go's
// server has already rejected header values with control characters, and
// the path is a validated mount path, so nothing can be injected. There is
// no Transfer-Encoding: a chunked body reaches Icecast de-chunked, which
// it reads to the end of the connection (Go's server has dropped the
// Content-Length of a chunked request).
func sourceRequestHead(r *http.Request, mount, host string, resumed bool) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\r\nHost: %s\r\n", r.Method, mount, r.Proto, host)
	for _, k := range sourceHeaders {
		if resumed && (k == "Expect" || k == "Content-Length") {
			continue
		}
		for _, v := range r.Header.Values(k) {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "ice-") || strings.HasPrefix(lk, "icy-") {
			for _, v := range vs {
				fmt.Fprintf(&b, "%s: %s\r\n", lk, v)
			}
		}
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// reconnectFailure names why a held source was ended, the "cause" label
// of autoradio_source_reconnect_failures_total.
func reconnectFailure(err error) string {
	if errors.Is(err, errNoResume) {
		return "timeout"
	}
	return "refused"
}
