package lb

import (
	"math"

	"autoradio"
)

// minWeight is the weight of an eligible node whose spare capacity the
// pending listeners have used up: pending counts are estimates (a redirected
// client may never connect), so such a node stays possible, just unlikely.
const minWeight = 1e-3

// nodeState is a node's last report plus what the balancer did since.
type nodeState struct {
	status *autoradio.NodeStatus
	// pending counts the listeners sent to the node since status was
	// reported; it resets when a report with a new UpdatedAt arrives.
	pending int
}

// candidate is an eligible node for one mount, with its capacity as last
// reported precomputed so that scoring it costs a few float operations.
type candidate struct {
	node *nodeState
	// The node's listener and bandwidth limits, counted in listeners.
	listeners, bandwidth limit
}

// limit is one capacity limit of a node, counted in listeners.
type limit struct {
	free, total float64 // as last reported, before pending listeners
}

// noLimit never binds: huge but finite, so that arithmetic stays exact
// enough (free - pending == total, fraction 1) and never yields NaN.
var noLimit = limit{math.MaxFloat64, math.MaxFloat64}

// newCandidate precomputes node n's limits for a mount whose listeners
// cost perListenerBps each. Bandwidth converts to listeners at that cost.
// A node with neither limit is taken to hold unlimited listeners.
func newCandidate(n *nodeState, perListenerBps, unlimited float64) candidate {
	s := n.status
	c := candidate{node: n, listeners: noLimit, bandwidth: noLimit}
	if s.MaxListeners > 0 {
		c.listeners = limit{float64(s.MaxListeners - s.Listeners), float64(s.MaxListeners)}
	}
	if s.BandwidthLimitBps > 0 {
		c.bandwidth = limit{(s.BandwidthLimitBps - s.BandwidthBps) / perListenerBps, s.BandwidthLimitBps / perListenerBps}
	}
	if s.MaxListeners <= 0 && s.BandwidthLimitBps <= 0 {
		c.listeners = limit{unlimited - float64(s.Listeners), unlimited}
	}
	return c
}

// room returns a candidate's spare capacity, counted in listeners, and the
// fraction of its capacity that is spare, both after the pending listeners
// and each under the tighter limit. Spare may be negative when pending
// listeners overshoot.
//
// Weighted uses the absolute spare: a node twice as large then receives
// twice the listeners and all nodes fill at the same rate. LeastLoaded
// uses the fraction, for the same reason: the emptiest node in relative
// terms is the one whose share lags behind its capacity.
func (c *candidate) room() (spare, fraction float64) {
	p := float64(c.node.pending)
	l, b := c.listeners, c.bandwidth
	return min(l.free, b.free) - p, min((l.free-p)/l.total, (b.free-p)/b.total)
}

// weight is the spare capacity floored at minWeight, for random choices.
func (c *candidate) weight() float64 {
	spare, _ := c.room()
	return max(spare, minWeight)
}

// freeFraction is the fraction of capacity that is spare, for LeastLoaded.
func (c *candidate) freeFraction() float64 {
	_, f := c.room()
	return f
}

// perListenerBps estimates what one listener of mount m costs node s in
// bits per second: the mount's bitrate when known, else the node's average
// per listener, else fallback.
func perListenerBps(s *autoradio.NodeStatus, m autoradio.MountStatus, fallback float64) float64 {
	if m.BitrateKbps > 0 {
		return float64(m.BitrateKbps) * 1000
	}
	if s.Listeners > 0 && s.BandwidthBps > 0 {
		return s.BandwidthBps / float64(s.Listeners)
	}
	return fallback
}
