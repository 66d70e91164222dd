package httpfe

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"autoradio"
	"autoradio/fe/fanout"
	"autoradio/fe/tap"
	"autoradio/internal/audioframe"
)

// tapPrefix is the path prefix of taps: the sources this front-end
// forwards, streamed to the other front-ends' fan-outs while no Icecast
// serves them live (package fe/tap).
const tapPrefix = "/_tap"

// serveTap streams a tap to a cluster node's front-end (or loopback);
// anyone else gets 404, as for any unknown /_ path.
func (h *Handler) serveTap(w http.ResponseWriter, r *http.Request, mount string) {
	if !h.clusterPeer(r.RemoteAddr) {
		http.NotFound(w, r)
		return
	}
	if err := h.taps.Serve(w, r, mount, h.cfg.StreamWriteTimeout); err != nil {
		h.log.Debug("tap: streaming to a front-end ended", "mount", mount, "peer", r.RemoteAddr, "err", err)
	}
}

// clusterPeer tells whether addr (host:port) is loopback or an address
// of a live cluster node.
func (h *Handler) clusterPeer(addr string) bool {
	return h.peer(addr, func(*autoradio.NodeStatus) bool { return true })
}

// peer reports whether addr (host:port) is loopback, or an address of a
// live node for which which is true.
func (h *Handler) peer(addr string, which func(*autoradio.NodeStatus) bool) bool {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	if ip.IsLoopback() {
		return true
	}
	for _, n := range h.cluster.Nodes() {
		if which(n) && slices.ContainsFunc(n.IPs, func(s string) bool {
			a, err := netip.ParseAddr(s)
			return err == nil && a.Unmap() == ip
		}) {
			return true
		}
	}
	return false
}

// serveRelaysLost takes radiod's word that the local Icecast's relays
// were lost (autoradio.RelaysLostPath): a POST from this node only.
func (h *Handler) serveRelaysLost(w http.ResponseWriter, r *http.Request) {
	if !h.localPeer(r.RemoteAddr) {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.fanout.LocalLost()
	h.log.Info("the local Icecast lost its relays: its feeds look for the sources' taps")
	w.WriteHeader(http.StatusNoContent)
}

// localPeer reports whether addr (host:port) is this node: loopback, or
// one of the addresses the node publishes.
func (h *Handler) localPeer(addr string) bool {
	return h.peer(addr, func(n *autoradio.NodeStatus) bool { return n.Name == h.cfg.NodeName })
}

// feedTap passes p, the source's bytes from stream position pos, and
// the join points found in them, to the source's tap, which starts once
// Icecast accepted the source.
func (fw *forward) feedTap(pos int64, p []byte, points []audioframe.Point) {
	if fw.taps == nil || !fw.accepted.Load() {
		return
	}
	if fw.tap == nil {
		fw.tap = fw.taps.Add(fw.mount, fw.contentType, pos)
	}
	fw.tap.Write(p, points)
}

// tapUpstream is the fan-out's way to this front-end's own taps.
type tapUpstream struct{ set *tap.Set }

func (u tapUpstream) Open(ctx context.Context, mount string, _ bool) (*fanout.Response, error) {
	rd, ok := u.set.Open(mount, tap.Back)
	if !ok {
		return &fanout.Response{Status: http.StatusNotFound, Header: http.Header{}}, nil
	}
	context.AfterFunc(ctx, func() { rd.Close() })
	return &fanout.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {rd.ContentType()}}, Body: rd}, nil
}

// tapsOf returns where mount can be streamed from its source: this
// front-end's tap, then the other live nodes' front-ends, the master's
// last (when the master's host died, the source is held elsewhere).
func (h *Handler) tapsOf(mount string) []fanout.Other {
	ups := []fanout.Other{{Name: h.cfg.NodeName, Upstream: tapUpstream{h.taps}}}
	var master []fanout.Other
	for _, n := range h.cluster.Nodes() {
		if n.Name == h.cfg.NodeName || len(n.IPs) == 0 {
			continue
		}
		up := h.icecastUpstream(net.JoinHostPort(n.IPs[0], strconv.Itoa(h.cfg.HTTPPort)))
		up.Prefix = tapPrefix
		if n.IsMaster {
			master = append(master, fanout.Other{Name: n.Name, Upstream: up})
			continue
		}
		ups = append(ups, fanout.Other{Name: n.Name, Upstream: up})
	}
	return append(ups, master...)
}

// masterName returns the name of the master of the moment, "" while
// none is elected.
func (h *Handler) masterName() string {
	if m, ok := h.cluster.Master(); ok {
		return m.Name
	}
	return ""
}

// healthy tells which Icecasts serve mount live under a master elected
// since old: the master's own, and, once it serves the mount, the relays
// that pull from it alone; none of them stepping aside. local is this node's; others are the
// other nodes', the master first.
func (h *Handler) healthy(mount, old string) (local bool, others []fanout.Other) {
	m, ok := h.cluster.Master()
	if !ok || m.Name == old || len(m.IPs) == 0 {
		return false, nil
	}
	addr := m.IcecastAddr()
	nodes := h.cluster.Nodes()
	// A relay of a master that has no source yet plays the master's
	// fallback: it is healthy only once the master serves the mount.
	if !slices.ContainsFunc(nodes, func(n *autoradio.NodeStatus) bool {
		return n.Name == m.Name && n.IsMaster && servesLive(n, mount)
	}) {
		return false, nil
	}
	for _, n := range nodes {
		fresh := (n.Name == m.Name && n.IsMaster) || (len(n.RelaysFrom) == 1 && n.RelaysFrom[0] == addr)
		if !fresh || !servesLive(n, mount) {
			continue
		}
		if n.Name == h.cfg.NodeName {
			local = true
			continue
		}
		up := fanout.Other{Name: n.Name, Upstream: h.icecastUpstream(net.JoinHostPort(n.IPs[0], strconv.Itoa(n.IcecastPort)))}
		if n.IsMaster {
			others = append([]fanout.Other{up}, others...)
		} else {
			others = append(others, up)
		}
	}
	return local, others
}

// tapMount returns the mount of a tap's path, false when p is not one.
func tapMount(p string) (string, bool) {
	m, ok := strings.CutPrefix(p, tapPrefix+"/")
	return "/" + m, ok
}
