package httpfe

import (
	"net/http"
	"strconv"
)

// serveHTTPS applies the HTTPS settings to r before it is routed: the
// HSTS header on answers over HTTPS, and, with RedirectPages, a redirect
// of the status page from plain HTTP to HTTPS. It reports whether it
// answered r.
func (h *Handler) serveHTTPS(w http.ResponseWriter, r *http.Request) bool {
	if r.TLS != nil {
		if h.cfg.HSTS > 0 {
			w.Header().Set("Strict-Transport-Security", "max-age="+strconv.Itoa(int(h.cfg.HSTS.Seconds())))
		}
		return false
	}
	if !h.cfg.RedirectPages || h.cfg.HTTPSPort == 0 || r.URL.Path != "/" ||
		r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	host := h.playlistHost("", true) // the domain
	if validHostPort(r.Host) && h.ownsHost(hostOnly(r.Host)) {
		host = urlHost(hostOnly(r.Host)) + tlsPortSuffix(h.cfg.HTTPSPort)
	}
	http.Redirect(w, r, "https://"+host+"/", http.StatusMovedPermanently)
	return true
}
