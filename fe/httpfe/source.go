package httpfe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"autoradio"
)

// serveSource relays a source to the master's Icecast, or, with the proxy
// disabled, redirects a PUT source there.
func (h *Handler) serveSource(w *recorder, r *http.Request, mount string) {
	if h.knownMount(w, r, mount) == nil {
		return
	}
	master, ok := h.cluster.Master()
	if !ok || len(master.IPs) == 0 {
		h.metrics.sourceConns.WithLabelValues(sourceNoMaster).Inc()
		h.unavailable(w, "no Icecast master is elected")
		return
	}
	if h.cfg.DisableProxy && r.Method == http.MethodPut {
		h.metrics.sourceConns.WithLabelValues(sourceRedirected).Inc()
		w.Header().Set("Location", "http://"+master.IcecastAddr()+mount)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	h.relaySource(w, r, mount, master)
}

// relaySource connects to the master's Icecast, hijacks the client's
// connection and relays bytes both ways until either side is done.
func (h *Handler) relaySource(w *recorder, r *http.Request, mount string, master *autoradio.MasterInfo) {
	log := h.log.With("mount", mount, "master", master.Name, "remote", r.RemoteAddr)
	addr := master.IcecastAddr()
	up, err := h.dialMaster(r.Context(), addr)
	if err != nil {
		h.metrics.sourceConns.WithLabelValues(sourceFailed).Inc()
		log.Warn("source: connecting to the master's Icecast", "addr", addr, "err", err)
		http.Error(w, "cannot reach the master's Icecast", http.StatusBadGateway)
		return
	}
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		h.metrics.sourceConns.WithLabelValues(sourceFailed).Inc()
		log.Error("source: hijacking the connection", "err", err)
		http.Error(w, "cannot relay a source here", http.StatusInternalServerError)
		return
	}
	rl := &relay{
		client:   client,
		clientIn: brw.Reader,
		up:       up,
		idle:     h.cfg.SourceIdleTimeout,
		respWait: h.cfg.ResponseTimeout,
		deposed: func() bool {
			// An unknown master (an election under way) deposes no one.
			m, ok := h.cluster.Master()
			return ok && m.Name != master.Name
		},
		bufs: h.bufs,
		m:    h.metrics,
		onResponse: func(code int) {
			h.metrics.sourceConns.WithLabelValues(sourceResult(code)).Inc()
			log.Info("source: Icecast answered", "code", code)
		},
	}
	if !h.sources.add(rl) {
		rl.closeBoth()
		h.metrics.sourceConns.WithLabelValues(sourceFailed).Inc()
		return
	}
	defer h.sources.remove(rl)
	h.metrics.sources.Inc()
	defer h.metrics.sources.Dec()
	code, err := rl.run(sourceRequestHead(r, mount, addr))
	if code == 0 {
		code = http.StatusBadGateway
	}
	w.setStatus(code)
	if errors.Is(err, errDeposed) {
		h.metrics.sourcesDeposed.Inc()
		log.Info("source: disconnected, its Icecast is no longer the master's", "bytes", rl.sent.Load())
		return
	}
	log.Info("source: relay ended", "bytes", rl.sent.Load())
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

// sourceRequestHead rebuilds the request line and headers for Icecast. Go's
// server has already rejected header values with control characters, and
// the path is a validated mount path, so nothing can be injected.
func sourceRequestHead(r *http.Request, mount, host string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\r\nHost: %s\r\n", r.Method, mount, r.Proto, host)
	for _, k := range sourceHeaders {
		for _, v := range r.Header.Values(k) {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	if len(r.TransferEncoding) > 0 {
		fmt.Fprintf(&b, "Transfer-Encoding: %s\r\n", strings.Join(r.TransferEncoding, ", "))
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

// readResponseHead copies Icecast's response headers to w as they come,
// through any 1xx interim responses, and returns the final status code.
func readResponseHead(r *bufio.Reader, w *bufio.Writer) (int, error) {
	for {
		code, err := copyHeaderBlock(r, w)
		if err != nil {
			return 0, err
		}
		if code >= 200 {
			return code, nil
		}
	}
}

// copyHeaderBlock copies one status line and its headers, up to the empty
// line, and returns the status code.
func copyHeaderBlock(r *bufio.Reader, w *bufio.Writer) (int, error) {
	status, err := r.ReadSlice('\n')
	if err != nil {
		return 0, fmt.Errorf("reading the status line: %w", err)
	}
	code, err := parseStatusLine(string(status))
	if err != nil {
		return 0, err
	}
	w.Write(status)
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("reading headers: %w", err)
		}
		w.Write(line)
		if len(strings.TrimRight(string(line), "\r\n")) == 0 {
			return code, w.Flush()
		}
	}
}

// parseStatusLine returns the code of "HTTP/1.x NNN reason".
func parseStatusLine(line string) (int, error) {
	proto, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
	codeStr, _, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(codeStr)
	if !strings.HasPrefix(proto, "HTTP/") || err != nil || code < 100 || code > 999 {
		return 0, fmt.Errorf("bad status line %q", strings.TrimSpace(line))
	}
	return code, nil
}

// deadline returns now+d.
func deadline(d time.Duration) time.Time { return time.Now().Add(d) }
