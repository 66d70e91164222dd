package httpfe

import (
	"encoding/json"
	"net/http"

	"autoradio"
	"autoradio/fe/hls"
	"autoradio/fe/statuspage"
)

// Status is the cluster as shown by GET / and GET /_status.json (see
// package fe/statuspage, which serves them).
type (
	Status    = statuspage.Status
	MountView = statuspage.MountView
	NodeView  = statuspage.NodeView
)

// newStatusPage builds the status page over the handler's cluster.
func (h *Handler) newStatusPage() *statuspage.Page {
	return statuspage.New(statuspage.Config{
		Domain:          h.cfg.Domain,
		NodeName:        h.cfg.NodeName,
		HTTPPort:        h.cfg.HTTPPort,
		HistoryInterval: h.cfg.HistoryInterval,
		HLS:             h.servesHLS,
		Logger:          h.log,
	}, h.cluster)
}

// servesHLS reports whether /<mount>.m3u8 serves m: the status page then
// links it and offers it to browsers that cannot play the stream itself.
func (h *Handler) servesHLS(m *autoradio.Mount) bool { return hls.Serves(m) }

// Status returns the current status of the cluster.
func (h *Handler) Status() Status { return h.page.Status() }

// StatusPage is the status page, whose Run keeps its listener history
// and event stream going.
func (h *Handler) StatusPage() *statuspage.Page { return h.page }

// serveProxiedJSON shows ProxiedListeners as an autoradio.ProxiedStatus,
// which radiod adds to the listener counts it publishes.
func (h *Handler) serveProxiedJSON(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-cache")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(autoradio.ProxiedStatus{Mounts: h.ProxiedListeners()}); err != nil {
		h.log.Debug("writing JSON", "err", err)
	}
}
