package httpfe

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// servePlaylist answers /<mount>.m3u and /<mount>.pls with a playlist that
// points at http://<Host>/<mount> (https:// when fetched over HTTPS), so
// that players come back through the front-end and its load balancer, by
// the name they used when it is the cluster's (see playlistHost).
func (h *Handler) servePlaylist(w http.ResponseWriter, r *http.Request, p string) {
	ext := p[len(p)-4:]
	mount := p[:len(p)-4]
	if h.knownMount(w, r, mount) == nil {
		return
	}
	url := "http://"
	if r.TLS != nil {
		url = "https://"
	}
	url += h.playlistHost(r.Host, r.TLS != nil) + mount
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-cache")
	if ext == ".m3u" {
		hdr.Set("Content-Type", "audio/x-mpegurl")
		fmt.Fprintf(w, "%s\n", url)
		return
	}
	hdr.Set("Content-Type", "audio/x-scpls")
	fmt.Fprintf(w, "[playlist]\nNumberOfEntries=1\nFile1=%s\nTitle1=%s\nLength1=-1\nVersion=2\n", url, mount[1:])
}

// playlistHost returns the request's Host when it names the cluster, with
// an optional port: the domain or a name in it, or the address of one of
// its nodes. Anything else gets the domain, on the HTTPS port when secure:
// a playlist never sends players to a host a request chose.
func (h *Handler) playlistHost(host string, secure bool) string {
	if validHostPort(host) && h.ownsHost(hostOnly(host)) {
		return strings.ToLower(host)
	}
	if secure {
		return urlHost(h.cfg.Domain) + tlsPortSuffix(h.cfg.HTTPSPort)
	}
	return hostPort(h.cfg.Domain, h.cfg.HTTPPort)
}

// hostOnly strips the port and brackets of a valid Host.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// ownsHost tells whether name is the cluster's domain, a name in it, or
// an address of one of its nodes.
func (h *Handler) ownsHost(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	domain := strings.ToLower(strings.TrimSuffix(h.cfg.Domain, "."))
	if name == domain || strings.HasSuffix(name, "."+domain) {
		return true
	}
	ip := net.ParseIP(name)
	if ip == nil {
		return false
	}
	for _, n := range h.cluster.Nodes() {
		for _, a := range n.IPs {
			if ip.Equal(net.ParseIP(a)) {
				return true
			}
		}
	}
	return false
}

// validHostPort accepts "name", "name:port", "1.2.3.4[:port]" and
// "[v6][:port]", where name is a DNS name of letters, digits and hyphens.
func validHostPort(s string) bool {
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 || port[0] == '0' {
			return false
		}
	}
	if ip := net.ParseIP(host); ip != nil {
		// A bare v6 address must be bracketed.
		return ip.To4() != nil || strings.HasPrefix(s, "[")
	}
	return validDNSName(host)
}

// validDNSName checks a host name: dot-separated labels of 1–63 letters,
// digits and hyphens, not starting or ending with a hyphen, 253 bytes at most.
func validDNSName(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
