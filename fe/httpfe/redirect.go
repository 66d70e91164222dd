package httpfe

import (
	"cmp"
	"net"
	"net/http"
	"strconv"
	"strings"

	"autoradio"
	"autoradio/fe/fanout"
)

// pick chooses the node for a new listener of mount, or answers the
// request itself (unknown mount, no node can serve it) and returns false.
func (h *Handler) pick(w http.ResponseWriter, r *http.Request, mount string) (*autoradio.NodeStatus, bool) {
	if h.knownMount(w, r, mount) == nil {
		return nil, false
	}
	node, ok := h.cluster.Pick(mount)
	if !ok {
		h.unavailable(w, "no node can serve this mount now")
	}
	return node, ok
}

// serveRedirect sends a listener to the node the load balancer picks.
func (h *Handler) serveRedirect(w http.ResponseWriter, r *http.Request, p string) {
	node, ok := h.pick(w, r, p)
	if !ok {
		return
	}
	a := h.nodes.get(node)
	target, ok := h.listenerURL(r, a, p)
	if !ok {
		h.unavailable(w, "no node can serve this mount now")
		return
	}
	a.redirects.Inc()
	hdr := w.Header()
	fanout.SetCORS(hdr)
	hdr["Location"] = []string{target}
	hdr["Cache-Control"] = noCache
	w.WriteHeader(http.StatusFound)
}

// noCache is the Cache-Control of redirects, shared by all of them (a
// header value that is only ever replaced, never changed in place).
var noCache = []string{"no-cache"}[:1:1]

// listenerURL is where a listener of mount goes on node a, with r's query:
// its front-end's /_stream/ in proxy mode, its Icecast otherwise, at an
// address of the family r came in on. The scheme and port are chosen here,
// per request; the rest was formatted once per node status. A listener
// that came over HTTPS goes to the node's front-end over HTTPS, by the
// node's name in the domain, which its certificate covers, and even
// without the proxy, since Icecast speaks no TLS here.
func (h *Handler) listenerURL(r *http.Request, a *nodeAddrs, mount string) (string, bool) {
	base, prefix := h.frontendBase(r, a), streamPrefix
	if base == "" {
		return "", false
	}
	if r.TLS == nil && h.cfg.DisableProxy {
		base, prefix = "http://"+a.host(preferIPv6(r))+a.icecastPort, ""
	}
	if q := r.URL.RawQuery; q != "" {
		return base + prefix + mount + "?" + q, true
	}
	return base + prefix + mount, true
}

// frontendBase is scheme://host[:port] of node a's front-end for r: over
// HTTPS, by the node's name, for a request that came over HTTPS; "" when
// a has no address of r's family or another.
func (h *Handler) frontendBase(r *http.Request, a *nodeAddrs) string {
	host := a.host(preferIPv6(r))
	switch {
	case host == "":
		return ""
	case r.TLS != nil:
		return "https://" + cmp.Or(a.name, host) + h.tlsPortSuffix
	}
	return "http://" + host + h.portSuffix
}

// nodeHost is the name of a node in the domain, as the DNS serves it, or
// "" when the node's name is no DNS label.
func (h *Handler) nodeHost(name string) string {
	if name == "" || strings.Contains(name, ".") || !validDNSName(name) {
		return ""
	}
	return strings.ToLower(name + "." + strings.TrimSuffix(h.cfg.Domain, "."))
}

// hostPort formats an address for a URL, leaving out port 80.
func hostPort(ip string, port int) string {
	return urlHost(ip) + portSuffix(port)
}

// urlHost formats an address as a URL's host: IPv6 in brackets.
func urlHost(ip string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]"
	}
	return ip
}

// tlsPortSuffix is ":port", or "" for port 443.
func tlsPortSuffix(port int) string {
	if port == 443 {
		return ""
	}
	return ":" + strconv.Itoa(port)
}

// portSuffix is ":port", or "" for port 80.
func portSuffix(port int) string {
	if port == 80 {
		return ""
	}
	return ":" + strconv.Itoa(port)
}

// chooseIP returns the first valid address of the preferred family, else
// the first valid address.
func chooseIP(ips []string, v6 bool) string {
	first := ""
	for _, s := range ips {
		ip := net.ParseIP(s)
		if ip == nil {
			continue
		}
		if (ip.To4() == nil) == v6 {
			return s
		}
		if first == "" {
			first = s
		}
	}
	return first
}

// preferIPv6 reports whether the client reached us over IPv6, so that it is
// sent to an address of the family it can use.
func preferIPv6(r *http.Request) bool {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	return ok && a.IP.To4() == nil
}

// newNodeAddrs computes what redirects to the node of status s need.
func (h *Handler) newNodeAddrs(s *autoradio.NodeStatus) *nodeAddrs {
	a := &nodeAddrs{status: s, icecastPort: ":" + strconv.Itoa(s.IcecastPort), redirects: h.metrics.redirects.WithLabelValues(s.Name),
		name: h.nodeHost(s.Name)}
	if ip := chooseIP(s.IPs, false); ip != "" {
		a.v4 = urlHost(ip)
	}
	if ip := chooseIP(s.IPs, true); ip != "" {
		a.v6 = urlHost(ip)
	}
	return a
}
