package httpfe

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"autoradio"
)

// Status is the cluster as shown by GET / and GET /_status.json. It is built
// for display and holds no credential: mounts are copied field by field,
// never serialised from autoradio.Mount, and relay URLs (which may carry a
// password) are reduced to a flag.
type Status struct {
	// Master is the name of the Icecast master; empty when none is elected.
	Master string `json:"master"`
	// Mounts are every configured mount, sorted by path.
	Mounts []MountView `json:"mounts"`
	// Nodes are every live node, sorted by name.
	Nodes []NodeView `json:"nodes"`
	// Listeners is the total over all nodes.
	Listeners int `json:"listeners"`
	// GeneratedAt is when this status was put together.
	GeneratedAt time.Time `json:"generated_at"`
}

// MountView is one mount in the Status.
type MountView struct {
	// Path is the mount path, e.g. "/live.ogg".
	Path string `json:"path"`
	// Listeners is the sum of the mount's listeners over all nodes.
	Listeners int `json:"listeners"`
	// Live is true when the mount has a source: on the master if the master
	// reports it, else on any node.
	Live bool `json:"live"`
	// Title is the current title ("now playing"), when a node knows it.
	Title string `json:"title,omitempty"`
	// BitrateKbps is the stream's bitrate, when known.
	BitrateKbps int `json:"bitrate_kbps,omitempty"`
	// Relay is true when the master pulls the mount from an upstream URL.
	Relay bool `json:"relay,omitempty"`
	// TranscodedFrom is the source mount of a transcoding mount.
	TranscodedFrom string `json:"transcoded_from,omitempty"`
	// Fallback is the mount listeners move to while this one has no source.
	Fallback string `json:"fallback,omitempty"`
}

// NodeView is one node in the Status.
type NodeView struct {
	Name              string    `json:"name"`
	IPs               []string  `json:"ips"`
	IsMaster          bool      `json:"is_master"`
	IcecastOK         bool      `json:"icecast_ok"`
	Listeners         int       `json:"listeners"`
	MaxListeners      int       `json:"max_listeners"`
	BandwidthBps      float64   `json:"bandwidth_bps"`
	BandwidthLimitBps float64   `json:"bandwidth_limit_bps"`
	UpdatedAt         time.Time `json:"updated_at"`
	Draining          bool      `json:"draining,omitempty"` // takes no new listeners: drained, or stopping
}

// Status returns the current status of the cluster.
func (h *Handler) Status() Status {
	nodes := h.cluster.Nodes()
	st := Status{GeneratedAt: time.Now().UTC(), Mounts: []MountView{}, Nodes: make([]NodeView, 0, len(nodes))}
	if m, ok := h.cluster.Master(); ok {
		st.Master = m.Name
	}
	for _, n := range nodes {
		st.Nodes = append(st.Nodes, nodeView(n))
		st.Listeners += n.Listeners
	}
	for _, m := range h.cluster.Mounts() {
		st.Mounts = append(st.Mounts, mountView(m, nodes, st.Master))
	}
	return st
}

func nodeView(n *autoradio.NodeStatus) NodeView {
	return NodeView{
		Name: n.Name, IPs: n.IPs, IsMaster: n.IsMaster, IcecastOK: n.IcecastOK,
		Listeners: n.Listeners, MaxListeners: n.MaxListeners,
		BandwidthBps: n.BandwidthBps, BandwidthLimitBps: n.BandwidthLimitBps,
		UpdatedAt: n.UpdatedAt, Draining: n.Draining,
	}
}

// mountView sums a mount's listeners over the nodes and takes its source
// state, title and bitrate from the master when it reports the mount, else
// from a node where it is live.
func mountView(m *autoradio.Mount, nodes []*autoradio.NodeStatus, master string) MountView {
	v := MountView{Path: m.Name, Relay: m.IsRelay(), Fallback: m.Fallback}
	if m.Transcoding != nil {
		v.TranscodedFrom = m.Transcoding.SourceName
	}
	var ref *autoradio.MountStatus
	for _, n := range nodes {
		ms, ok := n.Mount(m.Name)
		if !ok {
			continue
		}
		v.Listeners += ms.Listeners
		if n.Name == master || (ref == nil && ms.SourceConnected) {
			ref = &ms
		}
	}
	if ref != nil {
		v.Live, v.Title, v.BitrateKbps = ref.SourceConnected, ref.Title, ref.BitrateKbps
	}
	return v
}

func (h *Handler) serveStatusJSON(w http.ResponseWriter, r *http.Request) {
	h.writeJSON(w, h.Status())
}

// serveProxiedJSON shows ProxiedListeners as an autoradio.ProxiedStatus,
// which radiod adds to the listener counts it publishes.
func (h *Handler) serveProxiedJSON(w http.ResponseWriter, r *http.Request) {
	h.writeJSON(w, autoradio.ProxiedStatus{Mounts: h.ProxiedListeners()})
}

func (h *Handler) writeJSON(w http.ResponseWriter, v any) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Access-Control-Allow-Origin", "*")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		h.log.Debug("writing JSON", "err", err)
	}
}

//go:embed status.html
var statusHTML string

var statusTemplate = template.Must(template.New("status").Funcs(template.FuncMap{
	"mbps": func(bps float64) string { return strconv.FormatFloat(bps/1e6, 'f', 1, 64) },
}).Parse(statusHTML))

func (h *Handler) serveStatusHTML(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	data := struct {
		Domain string
		Status Status
	}{h.cfg.Domain, h.Status()}
	if err := statusTemplate.Execute(&buf, data); err != nil {
		h.log.Error("rendering the status page", "err", err)
		http.Error(w, "cannot render the status page", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	w.Write(buf.Bytes())
}
