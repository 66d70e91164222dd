package statuspage

import (
	"path"
	"strings"
	"time"

	"autoradio"
)

// Cluster is what the page reads of the cluster. Its methods must be safe
// for concurrent use and must not block on the network.
type Cluster interface {
	// Mounts returns every configured mount, sorted by path.
	Mounts() []*autoradio.Mount
	// Nodes returns the status of every live node, sorted by name.
	Nodes() []*autoradio.NodeStatus
	// Master returns the current Icecast master, if one is elected.
	Master() (*autoradio.MasterInfo, bool)
}

// Status is the cluster as shown by GET / and GET /_status.json.
type Status struct {
	// Master is the name of the Icecast master; empty when none is elected.
	Master string `json:"master"`
	// Mounts are every configured mount, sorted by path.
	Mounts []MountView `json:"mounts"`
	// Nodes are every live node, sorted by name.
	Nodes []NodeView `json:"nodes"`
	// Listeners is the total over all nodes.
	Listeners int `json:"listeners"`
	// PeakToday is the most listeners of all mounts together today.
	PeakToday int `json:"peak_today"`
	// BandwidthBps is the total outgoing bandwidth of the nodes.
	BandwidthBps float64 `json:"bandwidth_bps"`
	// NodesUp counts the nodes whose Icecast is up; Drained the nodes
	// that take no new listeners.
	NodesUp int `json:"nodes_up"`
	Drained int `json:"drained"`
	// GeneratedAt is when this status was put together.
	GeneratedAt time.Time `json:"generated_at"`
}

// MountView is one mount in the Status.
type MountView struct {
	// Path is the mount path, e.g. "/live.ogg".
	Path string `json:"path"`
	// Listeners is the sum of the mount's listeners over all nodes.
	Listeners int `json:"listeners"`
	// PeakToday is the most listeners the mount had today (since
	// midnight, the front-end's time), from the listener history.
	PeakToday int `json:"peak_today"`
	// PerNode are the mount's listeners on each node that has some.
	PerNode []NodeListeners `json:"per_node,omitempty"`
	// Live is true when the mount has a source: on the master if the master
	// reports it, else on any node.
	Live bool `json:"live"`
	// Title is the current title ("now playing"), when a node knows it.
	Title string `json:"title,omitempty"`
	// BitrateKbps is the stream's bitrate, when known.
	BitrateKbps int `json:"bitrate_kbps,omitempty"`
	// Codec is the stream's codec as a person names it ("MP3", "Ogg
	// Vorbis"), and ContentType its MIME type, when known.
	Codec       string `json:"codec,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	// HLS is true when the mount is also served as /<mount>.m3u8.
	HLS bool `json:"hls,omitempty"`
	// Relay is true when the master pulls the mount from an upstream URL.
	Relay bool `json:"relay,omitempty"`
	// TranscodedFrom is the source mount of a transcoding mount.
	TranscodedFrom string `json:"transcoded_from,omitempty"`
	// Fallback is the mount listeners move to while this one has no source.
	Fallback string `json:"fallback,omitempty"`
}

// NodeListeners is a mount's listeners on one node.
type NodeListeners struct {
	Node      string `json:"node"`
	Listeners int    `json:"listeners"`
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

// Build returns the current status of the cluster. hls reports whether a
// mount is served as HLS; nil means none is.
func Build(c Cluster, hls func(*autoradio.Mount) bool) Status {
	nodes := c.Nodes()
	st := Status{GeneratedAt: time.Now().UTC(), Mounts: []MountView{}, Nodes: make([]NodeView, 0, len(nodes))}
	if m, ok := c.Master(); ok {
		st.Master = m.Name
	}
	for _, n := range nodes {
		st.Nodes = append(st.Nodes, nodeView(n))
		st.Listeners += n.Listeners
		st.BandwidthBps += n.BandwidthBps
		if n.IcecastOK {
			st.NodesUp++
		}
		if n.Draining {
			st.Drained++
		}
	}
	for _, m := range c.Mounts() {
		v := mountView(m, nodes, st.Master)
		v.HLS = hls != nil && hls(m)
		st.Mounts = append(st.Mounts, v)
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
	codec := ""
	if m.Transcoding != nil {
		v.TranscodedFrom, codec = m.Transcoding.SourceName, m.Transcoding.Codec
	}
	v.Codec, v.ContentType = codecOf(m.Name, codec)
	var ref *autoradio.MountStatus
	for _, n := range nodes {
		ms, ok := n.Mount(m.Name)
		if !ok {
			continue
		}
		v.Listeners += ms.Listeners
		if ms.Listeners > 0 {
			v.PerNode = append(v.PerNode, NodeListeners{Node: n.Name, Listeners: ms.Listeners})
		}
		if n.Name == master || (ref == nil && ms.SourceConnected) {
			ref = &ms
		}
	}
	if ref != nil {
		v.Live, v.Title, v.BitrateKbps = ref.SourceConnected, ref.Title, ref.BitrateKbps
	}
	return v
}

// codecOf names a mount's codec from its transcoding codec, else from its
// path's extension, as Icecast's listeners would guess it.
func codecOf(mount, transcoding string) (name, mime string) {
	key := transcoding
	if key == "" {
		key = strings.TrimPrefix(path.Ext(mount), ".")
	}
	switch strings.ToLower(key) {
	case "mp3":
		return "MP3", "audio/mpeg"
	case "ogg", "oga", "vorbis":
		return "Ogg Vorbis", "audio/ogg"
	case "opus":
		return "Opus", "audio/ogg; codecs=opus"
	case "aac", "aacp":
		return "AAC", "audio/aac"
	case "flac":
		return "FLAC", "audio/flac"
	}
	return "", ""
}
