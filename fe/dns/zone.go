package dns

import (
	"net/netip"

	"autoradio"
)

// NodeAddr is a node as DNS publishes it: its name (a label under Z) and
// its addresses.
type NodeAddr struct {
	Name  string
	Addrs []netip.Addr
}

// Zone is where the handler learns about the nodes. Implementations must be
// safe for concurrent use and cheap: they are called on every query.
type Zone interface {
	// Nodes returns the healthy nodes in load-balancer order, best first.
	Nodes() []NodeAddr
	// Node returns the named node (name is lower case, relative to Z)
	// if it is in the cluster, healthy or not.
	Node(name string) (NodeAddr, bool)
}

// A ViewZone is a Zone that says when its nodes change, so that the
// handler can compute its answers once per change (and per Config.Refresh
// for the load balancer's order) rather than once per query.
type ViewZone interface {
	Zone
	// Version changes whenever Node, or Nodes other than by the order the
	// load balancer gives them, may answer differently.
	Version() uint64
	// Names lists every node that Node knows.
	Names() []string
}

// Ranker is the part of the load balancer (fe/lb.Balancer) that DNS uses.
type Ranker interface {
	// Rank returns up to n nodes able to serve mount ("" for any), best
	// first; n <= 0 means all.
	Rank(mount string, n int) []*autoradio.NodeStatus
	// Node returns the last status of the named node.
	Node(name string) (*autoradio.NodeStatus, bool)
}

// BalancerZone serves a Zone from a load balancer: Nodes are the nodes it
// ranks for any mount (Icecast up and under their limits), Node any node
// present in etcd. Node names are matched as published, so they should be
// lower case.
// When r also tells its generation and node names (fe/lb.Balancer does),
// the zone is a ViewZone.
func BalancerZone(r Ranker) Zone {
	if v, ok := r.(viewRanker); ok {
		return balancerViewZone{balancerZone{r}, v}
	}
	return balancerZone{r}
}

// viewRanker is the part of fe/lb.Balancer that makes a ViewZone.
type viewRanker interface {
	Generation() uint64
	Names() []string
}

type balancerZone struct{ r Ranker }

type balancerViewZone struct {
	balancerZone
	v viewRanker
}

func (z balancerViewZone) Version() uint64 { return z.v.Generation() }
func (z balancerViewZone) Names() []string { return z.v.Names() }

func (z balancerZone) Nodes() []NodeAddr {
	ranked := z.r.Rank("", 0)
	out := make([]NodeAddr, len(ranked))
	for i, s := range ranked {
		out[i] = nodeAddr(s)
	}
	return out
}

func (z balancerZone) Node(name string) (NodeAddr, bool) {
	s, ok := z.r.Node(name)
	if !ok {
		return NodeAddr{}, false
	}
	return nodeAddr(s), true
}

// nodeAddr converts a node status; addresses that do not parse are
// skipped (NodeStatus.Validate rejects them upstream).
func nodeAddr(s *autoradio.NodeStatus) NodeAddr {
	n := NodeAddr{Name: s.Name, Addrs: make([]netip.Addr, 0, len(s.IPs))}
	for _, ip := range s.IPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			n.Addrs = append(n.Addrs, a.Unmap())
		}
	}
	return n
}
