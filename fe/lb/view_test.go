package lb_test

import (
	"slices"
	"testing"

	"autoradio"
	"autoradio/fe/lb"
)

func TestGenerationAndNames(t *testing.T) {
	b := seeded(lb.Weighted, 1)
	g0 := b.Generation()
	b.Update([]*autoradio.NodeStatus{up("b", 0, 10), up("a", 10, 10)})
	g1 := b.Generation()
	b.SetDrained([]string{"a"})
	g2 := b.Generation()
	if !(g0 < g1 && g1 < g2) {
		t.Errorf("generations %d, %d, %d: want each change to count", g0, g1, g2)
	}
	// Names lists every node, the full one too, sorted.
	if got := b.Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Names = %v", got)
	}
	b.Pick("")
	if b.Generation() != g2 {
		t.Error("a pick changed the generation")
	}
}
