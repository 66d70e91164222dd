package httpfe

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"autoradio"
)

// nodeAddrs is what redirects need of one node status, computed once per
// status report rather than per request.
type nodeAddrs struct {
	status *autoradio.NodeStatus
	// v4 and v6 are the URL hosts of the node for clients of each family
	// (chooseIP's choice, IPv6 in brackets); "" when it has no address.
	v4, v6      string
	icecastPort string // ":8000"
	name        string // "<node>.<domain>", for HTTPS; "" if none
	redirects   prometheus.Counter
}

func (a *nodeAddrs) host(v6 bool) string {
	if v6 {
		return a.v6
	}
	return a.v4
}

// nodeCache keeps a nodeAddrs per node name for the node's current status
// (statuses are never modified, so the pointer identifies the report).
// Reads take no lock; a new status copies the map.
type nodeCache struct {
	make func(*autoradio.NodeStatus) *nodeAddrs
	mu   sync.Mutex
	m    atomic.Pointer[map[string]*nodeAddrs]
}

// get returns the nodeAddrs of s, computing it on s's first use.
func (c *nodeCache) get(s *autoradio.NodeStatus) *nodeAddrs {
	if m := c.m.Load(); m != nil {
		if a := (*m)[s.Name]; a != nil && a.status == s {
			return a
		}
	}
	a := c.make(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	next := map[string]*nodeAddrs{}
	if m := c.m.Load(); m != nil {
		next = maps.Clone(*m)
	}
	next[s.Name] = a
	c.m.Store(&next)
	return a
}
