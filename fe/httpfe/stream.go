package httpfe

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"autoradio"
	"autoradio/fe/fanout"
)

// serveStream streams a known mount from the local Icecast, through the
// mount's shared feed (package fe/fanout), which takes the connection of a
// GET or HEAD once Icecast has answered.
func (h *Handler) serveStream(w *recorder, r *http.Request, mount string) {
	if h.knownMount(w, r, mount) == nil {
		return
	}
	limit, ok := h.streamRoom()
	if !ok {
		h.unavailable(w, fanout.ErrFull.Error())
		return
	}
	err := h.fanout.Serve(w, r, mount, limit)
	var serr *fanout.StatusError
	switch {
	case err == nil:
		w.setStatus(http.StatusOK)
	case errors.Is(err, fanout.ErrFull), errors.Is(err, fanout.ErrClosed):
		h.unavailable(w, err.Error())
	case errors.As(err, &serr):
		h.streamError(w, mount, serr.Code, serr.Err)
	}
	// Otherwise the listener left while Icecast was awaited.
}

// streamError answers a stream request that cannot be served with code.
func (h *Handler) streamError(w http.ResponseWriter, mount string, code int, err error) {
	if code >= 500 {
		h.log.Warn("streaming from the local Icecast", "mount", mount, "code", code, "err", err)
	}
	fanout.SetCORS(w.Header())
	http.Error(w, "stream unavailable", code)
}

// streamLimit returns the most proxied listeners allowed (0: no limit):
// Config.MaxProxiedListeners, or when it is 0 the MaxListeners that this
// node (the one whose Icecast is LocalIcecast) publishes.
func (h *Handler) streamLimit() int {
	if h.cfg.MaxProxiedListeners != 0 {
		return max(h.cfg.MaxProxiedListeners, 0)
	}
	host, port, _ := net.SplitHostPort(h.cfg.LocalIcecast)
	for _, n := range h.cluster.Nodes() {
		if strconv.Itoa(n.IcecastPort) == port && slices.Contains(n.IPs, host) {
			return max(n.MaxListeners, 0)
		}
	}
	return 0
}

// ProxiedListeners returns the proxied listeners of each mount that has a
// shared connection to the local Icecast, open or opening.
// HLS sessions count as listeners of their mount.
func (h *Handler) ProxiedListeners() map[string]autoradio.ProxiedMount {
	return listenersWithHLS(h.fanout.Counts(), h.hls.Counts())
}

// servePreflight answers a CORS preflight for a known mount.
func (h *Handler) servePreflight(w http.ResponseWriter, r *http.Request, p string) string {
	kind := kindRedirect
	if m, ok := strings.CutPrefix(p, streamPrefix+"/"); ok {
		kind, p = kindStream, "/"+m
	}
	if h.knownMount(w, r, p) == nil {
		return kind
	}
	hdr := w.Header()
	fanout.SetCORS(hdr)
	hdr.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	hdr.Set("Access-Control-Allow-Headers", "Icy-MetaData, Range")
	hdr.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return kind
}

// icecastUpstream is the fan-out's way to an Icecast at addr.
func (h *Handler) icecastUpstream(addr string) *fanout.HTTPUpstream {
	return &fanout.HTTPUpstream{
		Addr:           addr,
		DialTimeout:    h.cfg.DialTimeout,
		HeaderTimeout:  h.cfg.ResponseTimeout,
		ReadBufferSize: 1 << 10, // Icecast's headers are short; the body bypasses it
	}
}

// otherUpstreams returns the Icecasts of the other nodes that report
// mount live, the master first (the root of every relay): where a proxied
// stream comes from while the local Icecast does not serve it. A node
// that steps aside is left out, so a feed reading it moves away.
func (h *Handler) otherUpstreams(mount string) []fanout.Other {
	var ups []fanout.Other
	for _, n := range h.cluster.Nodes() {
		if n.Name == h.cfg.NodeName || !servesLive(n, mount) || len(n.IPs) == 0 {
			continue
		}
		up := fanout.Other{Name: n.Name, Upstream: h.icecastUpstream(net.JoinHostPort(n.IPs[0], strconv.Itoa(n.IcecastPort)))}
		if n.IsMaster {
			ups = append([]fanout.Other{up}, ups...)
		} else {
			ups = append(ups, up)
		}
	}
	return ups
}

// localLive tells whether this node reports mount live.
func (h *Handler) localLive(mount string) bool {
	n := h.self()
	return n != nil && servesLive(n, mount)
}

// localAside tells whether this node steps aside (for a handover, or
// because its relays were lost): the fan-out's feeds leave its Icecast.
func (h *Handler) localAside(string) bool {
	n := h.self()
	return n != nil && n.StepAside
}

// self is this node's status as last published; nil when it has none.
func (h *Handler) self() *autoradio.NodeStatus {
	for _, n := range h.cluster.Nodes() {
		if n.Name == h.cfg.NodeName {
			return n
		}
	}
	return nil
}

// servesLive tells whether node n's Icecast reports mount with a source
// and n is not stepping aside for a handover (its Icecast may play the
// fallback any moment).
func servesLive(n *autoradio.NodeStatus, mount string) bool {
	ms, ok := n.Mount(mount)
	return n.IcecastOK && ok && ms.SourceConnected && !n.StepAside
}
