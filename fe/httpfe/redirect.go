package httpfe

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"autoradio"
	"autoradio/fe/fanout"
)

// serveRedirect sends a listener to the node the load balancer picks.
func (h *Handler) serveRedirect(w http.ResponseWriter, r *http.Request, p string) {
	if h.knownMount(w, r, p) == nil {
		return
	}
	node, ok := h.cluster.Pick(p)
	if !ok {
		h.unavailable(w, "no node can serve this mount now")
		return
	}
	target, ok := h.listenerURL(node, p, preferIPv6(r), r.TLS != nil)
	if !ok {
		h.unavailable(w, "no node can serve this mount now")
		return
	}
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	h.metrics.redirects.WithLabelValues(node.Name).Inc()
	hdr := w.Header()
	fanout.SetCORS(hdr)
	hdr.Set("Location", target)
	hdr.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusFound)
}

// listenerURL is where a listener of mount goes on node: its front-end's
// /_stream/ in proxy mode, its Icecast otherwise. A listener that came
// over HTTPS (secure) goes to the node's front-end over HTTPS, by the
// node's name in the domain, which its certificate covers, and even
// without the proxy, since Icecast speaks no TLS here.
func (h *Handler) listenerURL(node *autoradio.NodeStatus, mount string, v6, secure bool) (string, bool) {
	ip := chooseIP(node.IPs, v6)
	if ip == "" {
		return "", false
	}
	if secure {
		return "https://" + hostPort(h.nodeHost(node.Name, ip), h.cfg.HTTPSPort, true) + streamPrefix + mount, true
	}
	if h.cfg.DisableProxy {
		return "http://" + net.JoinHostPort(ip, strconv.Itoa(node.IcecastPort)) + mount, true
	}
	return "http://" + hostPort(ip, h.cfg.HTTPPort, false) + streamPrefix + mount, true
}

// nodeHost is the name of a node in the domain, as the DNS serves it, or
// ip when the node's name is no DNS label.
func (h *Handler) nodeHost(name, ip string) string {
	if name == "" || strings.Contains(name, ".") || !validDNSName(name) {
		return ip
	}
	return strings.ToLower(name + "." + strings.TrimSuffix(h.cfg.Domain, "."))
}

// hostPort formats an address for a URL, leaving out the scheme's
// default port: 443 when secure, else 80.
func hostPort(ip string, port int, secure bool) string {
	if port == 80 && !secure || port == 443 && secure {
		if strings.Contains(ip, ":") {
			return "[" + ip + "]"
		}
		return ip
	}
	return net.JoinHostPort(ip, strconv.Itoa(port))
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
