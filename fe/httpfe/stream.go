package httpfe

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"autoradio"
)

// serveStream streams a known mount from the local Icecast, through the
// mount's shared feed (see fanout.go). GET and HEAD hijack the connection;
// the stream goes on in a goroutine of the fanout.
func (h *Handler) serveStream(w *recorder, r *http.Request, mount string) {
	if h.knownMount(w, r, mount) == nil {
		return
	}
	icy := r.Header.Get("Icy-MetaData") == "1"
	fd, err := h.fanout.join(feedKey{mount: mount, icy: icy}, h.streamLimit())
	if err != nil {
		h.unavailable(w, err.Error())
		return
	}
	served := false
	defer func() {
		if !served {
			h.fanout.leave(fd)
		}
	}()
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.DialTimeout+h.cfg.ResponseTimeout)
	defer cancel()
	if err := fd.waitReady(ctx); err != nil {
		if r.Context().Err() == nil {
			h.streamError(w, mount, http.StatusGatewayTimeout, err)
		}
		return
	}
	if fd.status != http.StatusOK {
		h.streamError(w, mount, fd.status, nil)
		return
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		h.streamError(w, mount, http.StatusInternalServerError, err)
		return
	}
	w.setStatus(http.StatusOK)
	if r.Method == http.MethodHead {
		conn.SetWriteDeadline(time.Now().Add(h.cfg.ResponseTimeout))
		conn.Write(fd.head)
		conn.Close()
		return
	}
	pos, oggHeaders := fd.start()
	h.fanout.serve(fd, conn, net.Buffers{fd.head, oggHeaders}, pos)
	served = true
}

// streamError answers a stream request that cannot be served with code.
func (h *Handler) streamError(w http.ResponseWriter, mount string, code int, err error) {
	if code >= 500 {
		h.log.Warn("streaming from the local Icecast", "mount", mount, "code", code, "err", err)
	}
	setCORS(w.Header())
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
func (h *Handler) ProxiedListeners() map[string]autoradio.ProxiedMount { return h.fanout.counts() }

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
	setCORS(hdr)
	hdr.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
	hdr.Set("Access-Control-Allow-Headers", "Icy-MetaData, Range")
	hdr.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
	return kind
}

// setCORS lets web players on any site read streams and their Icy headers.
// It replaces whatever Icecast sent, so that each header appears once.
func setCORS(hdr http.Header) {
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Access-Control-Expose-Headers",
		"Icy-MetaInt, Icy-Br, Icy-Name, Icy-Genre, Icy-Url, Icy-Description, Icy-Pub, Icy-Sr, Ice-Audio-Info, Content-Type")
	hdr.Del("Access-Control-Allow-Credentials")
}
