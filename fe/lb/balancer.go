package lb

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"autoradio"
)

// Config configures a Balancer. The zero value is usable.
type Config struct {
	// Policy chooses among eligible nodes. Default Weighted.
	Policy Policy
	// UnlimitedCapacity is the total number of listeners assumed for a
	// node that reports neither a listener nor a bandwidth limit.
	// Default 1000.
	UnlimitedCapacity int
	// FallbackBitrateKbps estimates one listener's bandwidth when neither
	// the mount's bitrate nor the node's average is known. Default 128.
	FallbackBitrateKbps int
	// Rand is the source of randomness, for deterministic tests. The
	// Balancer serialises its use. Default: randomly seeded.
	Rand *rand.Rand
}

// Defaults used for zero Config fields.
const (
	DefaultUnlimitedCapacity   = 1000
	DefaultFallbackBitrateKbps = 128
)

// Balancer chooses nodes for listeners. It is safe for concurrent use.
//
// The statuses handed to Update are shared with the callers of Pick, Rank
// and Node: nobody may modify them afterwards.
type Balancer struct {
	policy      Policy
	unlimited   float64
	fallbackBps float64

	mu    sync.Mutex
	rnd   *rand.Rand
	nodes map[string]*nodeState
	// drained are the nodes drained by an operator (SetDrained).
	drained map[string]bool
	// pools holds the eligible candidates of each mount, by mount name,
	// sorted by node name; pools[""] holds every node under its limits.
	pools   map[string][]candidate
	weights []float64 // scratch space for Pick
	// generation counts Update and SetDrained calls (see Generation).
	generation atomic.Uint64
}

// New returns a Balancer with no nodes.
func New(cfg Config) *Balancer {
	if cfg.UnlimitedCapacity <= 0 {
		cfg.UnlimitedCapacity = DefaultUnlimitedCapacity
	}
	if cfg.FallbackBitrateKbps <= 0 {
		cfg.FallbackBitrateKbps = DefaultFallbackBitrateKbps
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return &Balancer{
		policy:      cfg.Policy,
		unlimited:   float64(cfg.UnlimitedCapacity),
		fallbackBps: float64(cfg.FallbackBitrateKbps) * 1000,
		rnd:         cfg.Rand,
		nodes:       map[string]*nodeState{},
		pools:       map[string][]candidate{},
	}
}

// Update replaces the set of nodes with the statuses last read from etcd.
// A node whose UpdatedAt did not change keeps its pending listener count;
// a new report resets it, since the report now counts those listeners.
// Entries that are nil or have no name are ignored; for a repeated name
// the last entry wins.
func (b *Balancer) Update(statuses []*autoradio.NodeStatus) {
	nodes := make(map[string]*nodeState, len(statuses))
	for _, s := range statuses {
		if s != nil && s.Name != "" {
			nodes[s.Name] = &nodeState{status: s}
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, n := range nodes {
		if old, ok := b.nodes[name]; ok && old.status.UpdatedAt.Equal(n.status.UpdatedAt) {
			n.pending = old.pending
		}
	}
	b.nodes, b.pools = nodes, b.buildPools(nodes)
	b.generation.Add(1)
}

// SetDrained replaces the set of nodes drained by an operator. A drained
// node, like one whose status says it is draining, gets no listener while
// another node can take it: it is kept out of every pool that has a node
// not drained. When none has, serving beats refusing: the drained nodes
// are the pool.
func (b *Balancer) SetDrained(names []string) {
	drained := make(map[string]bool, len(names))
	for _, n := range names {
		drained[n] = true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drained = drained
	b.pools = b.buildPools(b.nodes)
	b.generation.Add(1)
}

// isDrained reports whether a node takes listeners only as a last resort;
// b.mu must be held.
func (b *Balancer) isDrained(s *autoradio.NodeStatus) bool {
	return s.Draining || b.drained[s.Name]
}

// buildPools sorts the eligible nodes into one pool per mount, drained
// nodes only into pools that would be empty without them; b.mu must be
// held.
func (b *Balancer) buildPools(nodes map[string]*nodeState) map[string][]candidate {
	sorted := make([]*nodeState, 0, len(nodes))
	for _, n := range nodes {
		if underLimits(n.status) {
			sorted = append(sorted, n)
		}
	}
	slices.SortFunc(sorted, func(a, b *nodeState) int { return cmp.Compare(a.status.Name, b.status.Name) })

	pools, reserve := map[string][]candidate{}, map[string][]candidate{}
	for _, n := range sorted {
		s := n.status
		into := pools
		if b.isDrained(s) {
			into = reserve
		}
		avg := perListenerBps(s, autoradio.MountStatus{}, b.fallbackBps)
		into[""] = append(into[""], newCandidate(n, avg, b.unlimited))
		for _, m := range liveMounts(s) {
			bps := perListenerBps(s, m, b.fallbackBps)
			into[m.Name] = append(into[m.Name], newCandidate(n, bps, b.unlimited))
		}
	}
	for mount, cs := range reserve {
		if len(pools[mount]) == 0 {
			pools[mount] = cs
		}
	}
	return pools
}

// Pick chooses the node that should serve the next listener of mount
// ("" for any node under its limits) and counts that listener as pending
// on it. It returns false when no node can serve the mount.
func (b *Balancer) Pick(mount string) (*autoradio.NodeStatus, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	pool := b.pools[mount]
	i := b.choose(pool)
	if i < 0 {
		return nil, false
	}
	pool[i].node.pending++
	return pool[i].node.status, true
}

// Node returns the last status of the named node, eligible or not.
func (b *Balancer) Node(name string) (*autoradio.NodeStatus, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, ok := b.nodes[name]
	if !ok {
		return nil, false
	}
	return n.status, true
}

// Pending returns how many listeners Pick has sent to the named node since
// its last status report.
func (b *Balancer) Pending(name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n, ok := b.nodes[name]; ok {
		return n.pending
	}
	return 0
}
