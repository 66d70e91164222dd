package lb

import (
	"slices"
	"strings"
)

// Generation counts the changes of the balancer's view: every Update and
// SetDrained. Callers that cache what they derive from the balancer (the
// DNS answers) compare it to know when to derive again; it takes no lock,
// so that they can ask on every query.
func (b *Balancer) Generation() uint64 { return b.generation.Load() }

// Names returns the names of every node the balancer knows, eligible or
// not, sorted.
func (b *Balancer) Names() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	names := make([]string, 0, len(b.nodes))
	for n := range b.nodes {
		names = append(names, n)
	}
	slices.SortFunc(names, strings.Compare)
	return names
}
