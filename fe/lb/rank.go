package lb

import (
	"cmp"
	"slices"

	"autoradio"
)

// Rank returns up to n nodes that can serve mount ("" for any node under
// its limits), in the order the policy prefers them; n <= 0 means all.
// Weighted orders by weighted random sampling without replacement, so the
// first node follows the same odds as Pick; LeastLoaded orders by free fraction
// (ties shuffled); Random shuffles. Rank records no pending listener: it
// serves DNS, whose answers resolvers cache and share among many clients.
func (b *Balancer) Rank(mount string, n int) []*autoradio.NodeStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	pool := b.pools[mount]
	if n <= 0 || n > len(pool) {
		n = len(pool)
	}
	if n == 0 {
		return nil
	}
	keyed := b.rankKeys(pool)
	slices.SortStableFunc(keyed, func(x, y rankKey) int { return cmp.Compare(y.key, x.key) })
	out := make([]*autoradio.NodeStatus, n)
	for i := range out {
		out[i] = keyed[i].node.status
	}
	return out
}

type rankKey struct {
	node *nodeState
	key  float64 // larger first
}

// rankKeys gives each candidate a sort key for the policy, in shuffled
// order so that a stable sort breaks ties at random.
func (b *Balancer) rankKeys(pool []candidate) []rankKey {
	keyed := make([]rankKey, len(pool))
	for i := range pool {
		c := &pool[i]
		keyed[i].node = c.node
		switch b.policy {
		case LeastLoaded:
			keyed[i].key = c.freeFraction()
		case Weighted:
			// Efraimidis–Spirakis: the largest -Exp(1)/w come first.
			keyed[i].key = -b.rnd.ExpFloat64() / c.weight()
		}
	}
	b.rnd.Shuffle(len(keyed), func(i, j int) { keyed[i], keyed[j] = keyed[j], keyed[i] })
	return keyed
}
