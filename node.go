package autoradio

import (
	"fmt"
	"net"
	"time"
)

// DefaultIcecastPort is the HTTP port of a node's Icecast, unless radiod is
// told another (--icecast-port); redirectord must then be told the same.
const DefaultIcecastPort = 8000

// MountStatus is one node's view of one mount, as measured on its Icecast.
type MountStatus struct {
	Name string `json:"name"`
	// Listeners counts real listeners; relay connections are not included.
	Listeners int `json:"listeners"`
	// SourceConnected is true when the mount has a live source on this
	// node (a source client on the master, a working relay elsewhere).
	SourceConnected bool `json:"source_connected"`
	BitrateKbps     int  `json:"bitrate_kbps,omitempty"`
	// Title is the stream's current title ("now playing"), when known.
	Title string `json:"title,omitempty"`
	// Configured is true once the node's Icecast runs a config that has
	// the mount, in the node's current role: the master takes the
	// mount's source (with its credentials), any other node relays it
	// from the master. Nodes older than this field never set it.
	Configured bool `json:"configured,omitempty"`
}

// ProxiedStatusPath is where a node's front-end shows the listeners it
// proxies to the node's Icecast, as a ProxiedStatus.
const ProxiedStatusPath = "/_proxied.json"

// RelaysLostPath is where radiod tells its node's front-end, with a
// POST, that the master's Icecast ended the local Icecast's relays: the
// front-end's feeds then stream the mounts from the sources' taps at once,
// rather than once the cluster learns it through etcd. Only the node
// itself may ask (loopback or its own addresses).
const RelaysLostPath = "/_relays-lost"

// ProxiedStatus is a front-end's proxied listeners per mount path.
type ProxiedStatus struct {
	Mounts map[string]ProxiedMount `json:"mounts"`
}

// ProxiedMount is one mount's proxied listeners on a front-end. Icecast
// counts each of the front-end's shared connections to the mount (two
// when some listeners want Icy metadata and others do not) as one
// listener: the mount's real listener count on the node is Icecast's
// count, minus Upstreams, plus Listeners. Listeners include the mount's
// HLS sessions on the front-end, which its shared connections feed too.
type ProxiedMount struct {
	Listeners int `json:"listeners"`
	Upstreams int `json:"upstreams"`
}

// NodeStatus is what a node publishes about itself under NodeKey(Name),
// bound to its lease so that it disappears when the node dies.
type NodeStatus struct {
	Name              string        `json:"name"`
	IPs               []string      `json:"ips"`
	IcecastPort       int           `json:"icecast_port"`
	IcecastOK         bool          `json:"icecast_ok"`
	IsMaster          bool          `json:"is_master"`
	Mounts            []MountStatus `json:"mounts"`
	Listeners         int           `json:"listeners"`
	MaxListeners      int           `json:"max_listeners"`
	BandwidthBps      float64       `json:"bandwidth_bps"`
	BandwidthLimitBps float64       `json:"bandwidth_limit_bps"`
	// Draining is true while the node hands its work over: drained by
	// an operator (DrainKey) or stopping. It takes no new listeners and
	// does not stand for master. Nodes older than this field never set it.
	Draining bool `json:"draining,omitempty"`
	// StepAside is true while the node's Icecast is about to change, or
	// is changing, where its streams come from (a master handover): its
	// mounts may play the fallback for a moment, so front-ends stream
	// them from another node meanwhile. Nodes older than this field never
	// set it.
	StepAside bool `json:"step_aside,omitempty"`
	// RelaysFrom lists the Icecasts (host:port) this node's relays are
	// connected to: the master's, and during a handover the previous
	// master's until they move over.
	RelaysFrom []string  `json:"relays_from,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Mount returns the status of the named mount on this node, if present.
func (n *NodeStatus) Mount(name string) (MountStatus, bool) {
	for _, m := range n.Mounts {
		if m.Name == name {
			return m, true
		}
	}
	return MountStatus{}, false
}

// Validate checks the fields that consumers rely on to reach the node.
func (n *NodeStatus) Validate() error {
	if n.Name == "" {
		return fmt.Errorf("node status has no name")
	}
	return validateEndpoint(n.IPs, n.IcecastPort)
}

// MasterInfo is the value the elected master stores in the master election:
// enough for every other node to reach its Icecast.
type MasterInfo struct {
	Name        string   `json:"name"`
	IPs         []string `json:"ips"`
	IcecastPort int      `json:"icecast_port"`
}

// Validate checks that the master can be reached.
func (m *MasterInfo) Validate() error {
	if m.Name == "" {
		return fmt.Errorf("master info has no name")
	}
	return validateEndpoint(m.IPs, m.IcecastPort)
}

// IcecastAddr returns host:port of the master's Icecast on its first address.
func (m *MasterInfo) IcecastAddr() string {
	return net.JoinHostPort(m.IPs[0], fmt.Sprint(m.IcecastPort))
}

func validateEndpoint(ips []string, port int) error {
	if len(ips) == 0 {
		return fmt.Errorf("no IP addresses")
	}
	for _, ip := range ips {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("bad IP address %q", ip)
		}
	}
	if port <= 0 || port > 65535 {
		return fmt.Errorf("bad Icecast port %d", port)
	}
	return nil
}
