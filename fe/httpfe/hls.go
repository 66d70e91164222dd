package httpfe

import (
	"context"
	"net/http"
	"strings"

	"autoradio"
	"autoradio/fe/fanout"
	"autoradio/fe/hls"
)

// hlsPrefix is the path prefix of HLS media playlists and segments:
// /_hls/<mount>/index.m3u8 and /_hls/<mount>/<sequence>.mp3 (or .aac).
const hlsPrefix = "/_hls"

// maxRedundant bounds the redundant variants of a multivariant playlist.
const maxRedundant = 2

// defaultBandwidth is a variant's BANDWIDTH when its node does not know
// the mount's bit rate.
const defaultBandwidth = 128_000

// serveMultivariant answers /<mount>.m3u8: a multivariant playlist whose
// first variant is the media playlist on the node the load balancer picks,
// and whose redundant variants, with the same bandwidth, are on other
// nodes that serve the mount live, for players to fail over to. All carry
// one new session token.
func (h *Handler) serveMultivariant(w http.ResponseWriter, r *http.Request, mount string) {
	node, ok := h.pick(w, r, mount)
	if !ok {
		return
	}
	nodes := []*autoradio.NodeStatus{node}
	for _, n := range h.cluster.Nodes() {
		if len(nodes) > maxRedundant {
			break
		}
		if n.Name != node.Name && servesLive(n, mount) {
			nodes = append(nodes, n)
		}
	}
	bw := defaultBandwidth
	if ms, ok := node.Mount(mount); ok && ms.BitrateKbps > 0 {
		bw = ms.BitrateKbps * 1000
	}
	query := hls.MediaQuery(hls.NewToken())
	var variants []hls.Variant
	for _, n := range nodes {
		if base := h.frontendBase(r, h.nodes.get(n)); base != "" {
			u := base + hls.MediaPath(hlsPrefix, mount) + "?" + query
			variants = append(variants, hls.Variant{URL: u, Bandwidth: bw})
		}
	}
	if len(variants) == 0 {
		h.unavailable(w, "no node can serve this mount now")
		return
	}
	h.nodes.get(node).redirects.Inc()
	hdr := w.Header()
	fanout.SetCORS(hdr)
	hdr.Set("Content-Type", "application/vnd.apple.mpegurl")
	hdr.Set("Cache-Control", "no-cache")
	w.Write(hls.Multivariant(variants))
}

// serveHLS answers a request under /_hls/: a mount's media playlist or a
// segment, cut on this node from the mount's shared feed.
func (h *Handler) serveHLS(w http.ResponseWriter, r *http.Request, p string) {
	rest := strings.TrimPrefix(p, hlsPrefix)
	i := strings.LastIndexByte(rest, '/')
	mount, file := rest[:i], rest[i+1:]
	if h.knownMount(w, r, mount) == nil {
		return
	}
	fanout.SetCORS(w.Header())
	limit := h.streamLimit()
	full := limit > 0 && h.fanout.Listeners()+h.hls.Sessions() >= limit
	if err := h.hls.ServeMedia(w, r, mount, file, full); err != nil {
		h.unavailable(w, err.Error())
	}
}

// fanoutSource opens HLS's feeds from the fan-out.
type fanoutSource struct{ f *fanout.Fanout }

func (s fanoutSource) Open(ctx context.Context, mount string) (hls.Feed, error) {
	r, err := s.f.Open(ctx, mount)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// listenersWithHLS adds each mount's HLS sessions to its proxied listeners.
func listenersWithHLS(c map[string]autoradio.ProxiedMount, sessions map[string]int) map[string]autoradio.ProxiedMount {
	for m, n := range sessions {
		pm := c[m]
		pm.Listeners += n
		c[m] = pm
	}
	return c
}

// streamRoom returns the limit of proxied stream listeners left by the
// node's limit (0: none) and its HLS sessions; false when none is left.
func (h *Handler) streamRoom() (int, bool) {
	limit := h.streamLimit()
	if limit == 0 {
		return 0, true
	}
	limit -= h.hls.Sessions()
	return limit, limit > 0
}
