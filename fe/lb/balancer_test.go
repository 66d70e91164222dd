package lb_test

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"autoradio"
	"autoradio/fe/lb"
)

func TestFilters(t *testing.T) {
	tests := []struct {
		name  string
		nodes []*autoradio.NodeStatus
		mount string
		want  []string // eligible node names, sorted
	}{
		{"healthy nodes serve the mount", []*autoradio.NodeStatus{up("a", 0, 10, "/m"), up("b", 0, 10, "/m")}, "/m", []string{"a", "b"}},
		{"icecast down", []*autoradio.NodeStatus{up("a", 0, 10, "/m"), with(up("b", 0, 10, "/m"), func(s *autoradio.NodeStatus) { s.IcecastOK = false })}, "/m", []string{"a"}},
		{"mount absent", []*autoradio.NodeStatus{up("a", 0, 10, "/m"), up("b", 0, 10, "/other")}, "/m", []string{"a"}},
		{"no live source", []*autoradio.NodeStatus{up("a", 0, 10, "/m"), with(up("b", 0, 10, "/m"), func(s *autoradio.NodeStatus) { s.Mounts[0].SourceConnected = false })}, "/m", []string{"a"}},
		{"at listener limit", []*autoradio.NodeStatus{up("a", 9, 10, "/m"), up("b", 10, 10, "/m"), up("c", 11, 10, "/m")}, "/m", []string{"a"}},
		{"no listener limit", []*autoradio.NodeStatus{up("a", 5000, 0, "/m")}, "/m", []string{"a"}},
		{"at bandwidth limit", []*autoradio.NodeStatus{
			with(up("a", 0, 0, "/m"), func(s *autoradio.NodeStatus) { s.BandwidthBps, s.BandwidthLimitBps = 99e6, 100e6 }),
			with(up("b", 0, 0, "/m"), func(s *autoradio.NodeStatus) { s.BandwidthBps, s.BandwidthLimitBps = 100e6, 100e6 }),
			with(up("c", 0, 0, "/m"), func(s *autoradio.NodeStatus) { s.BandwidthBps, s.BandwidthLimitBps = 500e6, 0 }),
		}, "/m", []string{"a", "c"}},
		{"any mount: icecast up and under limits", []*autoradio.NodeStatus{
			up("a", 0, 10), up("b", 10, 10, "/m"),
			with(up("c", 0, 10), func(s *autoradio.NodeStatus) { s.IcecastOK = false }),
			with(up("d", 0, 10, "/x"), func(s *autoradio.NodeStatus) { s.Mounts[0].SourceConnected = false }),
		}, "", []string{"a", "d"}},
		{"unknown mount", []*autoradio.NodeStatus{up("a", 0, 10, "/m")}, "/nope", nil},
		{"nil and nameless entries ignored", []*autoradio.NodeStatus{nil, up("", 0, 10, "/m"), up("a", 0, 10, "/m")}, "/m", []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range []lb.Policy{lb.Weighted, lb.LeastLoaded, lb.Random} {
				b := seeded(p, 1)
				b.Update(tt.nodes)
				got := names(b.Rank(tt.mount, 0))
				slices.Sort(got)
				if !slices.Equal(got, tt.want) {
					t.Errorf("%v: Rank(%q) = %v, want %v", p, tt.mount, got, tt.want)
				}
				picked, ok := b.Pick(tt.mount)
				if ok != (len(tt.want) > 0) || ok && !slices.Contains(tt.want, picked.Name) {
					t.Errorf("%v: Pick(%q) = %v, %v; want one of %v", p, tt.mount, picked, ok, tt.want)
				}
			}
		})
	}
}

func TestPickChoosesByPolicy(t *testing.T) {
	bw := func(name string, usedBps, limitBps float64) *autoradio.NodeStatus {
		return with(up(name, 0, 0, "/m"), func(s *autoradio.NodeStatus) { s.BandwidthBps, s.BandwidthLimitBps = usedBps, limitBps })
	}
	tests := []struct {
		name  string
		nodes []*autoradio.NodeStatus
		want  string
	}{
		{"lowest listener load", []*autoradio.NodeStatus{up("a", 50, 100, "/m"), up("b", 10, 100, "/m"), up("c", 30, 100, "/m")}, "b"},
		{"relative, not absolute, load", []*autoradio.NodeStatus{up("a", 10, 100, "/m"), up("b", 50, 1000, "/m"), up("c", 40, 100, "/m")}, "b"},
		{"bandwidth counts", []*autoradio.NodeStatus{bw("a", 90e6, 100e6), bw("b", 20e6, 100e6)}, "b"},
		{"tighter limit wins", []*autoradio.NodeStatus{
			with(up("a", 10, 1000, "/m"), func(s *autoradio.NodeStatus) { s.BandwidthBps, s.BandwidthLimitBps = 95e6, 100e6 }),
			up("b", 500, 1000, "/m"),
		}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := seeded(lb.LeastLoaded, 2)
			b.Update(tt.nodes)
			if got, ok := b.Pick("/m"); !ok || got.Name != tt.want {
				t.Errorf("Pick = %v, %v; want %s", got, ok, tt.want)
			}
			if got := b.Rank("/m", 1); len(got) != 1 || got[0].Name != tt.want {
				t.Errorf("Rank(1) = %v; want [%s]", names(got), tt.want)
			}
		})
	}
}

func TestLeastLoadedBreaksTiesAtRandom(t *testing.T) {
	b := seeded(lb.LeastLoaded, 3)
	b.Update([]*autoradio.NodeStatus{up("a", 5, 100, "/m"), up("b", 5, 100, "/m")})
	first := map[string]int{}
	for range 400 {
		first[b.Rank("/m", 1)[0].Name]++
	}
	if first["a"] < 150 || first["b"] < 150 {
		t.Errorf("first place over 400 rankings = %v, want both near 200", first)
	}
}

func TestRandomIgnoresLoad(t *testing.T) {
	b := seeded(lb.Random, 4)
	b.Update([]*autoradio.NodeStatus{up("a", 0, 100, "/m"), up("b", 0, 10000, "/m"), up("c", 90, 100, "/m")})
	got := map[string]int{}
	const n = 30000
	for range n {
		s, _ := b.Pick("/m")
		got[s.Name]++
	}
	for _, name := range []string{"a", "b", "c"} {
		if share := float64(got[name]) / n; math.Abs(share-1.0/3) > 0.05/3 {
			t.Errorf("node %s share %.3f, want 1/3 ± 5%%", name, share)
		}
	}
}

func TestPendingResetsOnNewReport(t *testing.T) {
	b := seeded(lb.LeastLoaded, 5)
	a := up("a", 0, 100, "/m")
	b.Update([]*autoradio.NodeStatus{a})
	for range 3 {
		b.Pick("/m")
	}
	if got := b.Pending("a"); got != 3 {
		t.Fatalf("Pending after 3 picks = %d, want 3", got)
	}
	b.Update([]*autoradio.NodeStatus{up("a", 0, 100, "/m")}) // same UpdatedAt: the same report
	if got := b.Pending("a"); got != 3 {
		t.Fatalf("Pending after re-reading the same report = %d, want 3", got)
	}
	b.Update([]*autoradio.NodeStatus{with(up("a", 3, 100, "/m"), func(s *autoradio.NodeStatus) { s.UpdatedAt = epoch.Add(time.Second) })})
	if got := b.Pending("a"); got != 0 {
		t.Fatalf("Pending after a new report = %d, want 0", got)
	}
	if s, ok := b.Node("a"); !ok || s.Listeners != 3 {
		t.Fatalf("Node(a) = %v, %v; want the new report", s, ok)
	}
}

// cluster simulates nodes that report, every `every` decisions, the
// listeners the balancer sent them.
type cluster struct {
	nodes []*autoradio.NodeStatus
	sent  map[string]int
}

func newCluster(capacities ...int) *cluster {
	c := &cluster{sent: map[string]int{}}
	for i, max := range capacities {
		c.nodes = append(c.nodes, up(string(rune('a'+i)), 0, max, "/m"))
	}
	return c
}

// report publishes fresh statuses showing every listener sent so far.
func (c *cluster) report(b *lb.Balancer, at time.Time) {
	fresh := make([]*autoradio.NodeStatus, len(c.nodes))
	for i, n := range c.nodes {
		s := *n
		s.Listeners, s.UpdatedAt = c.sent[n.Name], at
		fresh[i] = &s
	}
	b.Update(fresh)
}

func (c *cluster) run(t *testing.T, b *lb.Balancer, decisions, every int) {
	t.Helper()
	c.report(b, epoch)
	for i := 1; i <= decisions; i++ {
		s, ok := b.Pick("/m")
		if !ok {
			t.Fatalf("decision %d: no node", i)
		}
		c.sent[s.Name]++
		if i%every == 0 {
			c.report(b, epoch.Add(time.Duration(i)*time.Millisecond))
		}
	}
}

func TestSharesFollowCapacity(t *testing.T) {
	for _, p := range []lb.Policy{lb.Weighted, lb.LeastLoaded} {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("%v/seed%d", p, seed), func(t *testing.T) {
				c := newCluster(10000, 20000, 10000)
				const decisions = 10000
				c.run(t, seeded(p, seed), decisions, 100)
				for name, want := range map[string]float64{"a": 0.25, "b": 0.5, "c": 0.25} {
					share := float64(c.sent[name]) / decisions
					if math.Abs(share-want) > 0.05*want {
						t.Errorf("node %s share %.4f, want %.2f ± 5%%", name, share, want)
					}
					t.Logf("node %s: %d listeners (%.2f%%)", name, c.sent[name], 100*share)
				}
			})
		}
	}
}

func TestBurstSpreads(t *testing.T) {
	t.Run("weighted", func(t *testing.T) {
		c := newCluster(1000, 2000, 1000)
		c.run(t, seeded(lb.Weighted, 7), 200, 1000) // no report during the burst
		for _, name := range []string{"a", "b", "c"} {
			if c.sent[name] < 20 || c.sent[name] > 140 {
				t.Errorf("burst of 200: %v; want every node used, none with most of it", c.sent)
			}
		}
	})
	t.Run("least_loaded", func(t *testing.T) {
		c := newCluster(1000, 2000, 1000)
		c.run(t, seeded(lb.LeastLoaded, 8), 200, 1000)
		// Pending counts level the free fractions: b takes twice a or c.
		for name, want := range map[string]int{"a": 50, "b": 100, "c": 50} {
			if d := c.sent[name] - want; d < -1 || d > 1 {
				t.Errorf("burst of 200: %v; want a=50 b=100 c=50 (±1)", c.sent)
			}
		}
	})
}

func TestPendingConsumesBandwidth(t *testing.T) {
	// a has room for 10 listeners of 128 kbit/s; b for 100 listeners.
	a := with(up("a", 0, 0, "/m"), func(s *autoradio.NodeStatus) { s.BandwidthLimitBps = 1.28e6 })
	bNode := up("b", 90, 100, "/m")
	bal := seeded(lb.LeastLoaded, 9)
	bal.Update([]*autoradio.NodeStatus{a, bNode})
	got := map[string]int{}
	for range 20 {
		s, _ := bal.Pick("/m")
		got[s.Name]++
	}
	// Free fractions meet when both have spent half: a 5 of 10, b 5 of 10 left.
	if got["a"] < 9 || got["a"] > 11 {
		t.Errorf("20 picks = %v; want about 10 on a, whose bandwidth pending listeners use up", got)
	}
}

func TestEmptyBalancer(t *testing.T) {
	b := lb.New(lb.Config{})
	if s, ok := b.Pick("/m"); ok || s != nil {
		t.Errorf("Pick on empty balancer = %v, %v", s, ok)
	}
	if got := b.Rank("", 3); len(got) != 0 {
		t.Errorf("Rank on empty balancer = %v", names(got))
	}
	if _, ok := b.Node("x"); ok {
		t.Error("Node(x) found on empty balancer")
	}
}

func TestRankLimitsAndOrders(t *testing.T) {
	b := seeded(lb.LeastLoaded, 10)
	b.Update([]*autoradio.NodeStatus{up("a", 30, 100), up("b", 10, 100), up("c", 20, 100), up("d", 100, 100)})
	if got := names(b.Rank("", 0)); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Errorf("Rank(all) = %v, want [b c a]", got)
	}
	if got := names(b.Rank("", 2)); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("Rank(2) = %v, want [b c]", got)
	}
	if got := b.Pending("b"); got != 0 {
		t.Errorf("Rank recorded %d pending listeners, want none", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	b := lb.New(lb.Config{})
	c := newCluster(100, 100, 100)
	c.report(b, epoch)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				if g == 0 && i%50 == 0 {
					c.report(b, epoch.Add(time.Duration(i)))
				}
				if _, ok := b.Pick("/m"); !ok {
					t.Error("Pick found no node")
					return
				}
				b.Rank("", 2)
			}
		})
	}
	wg.Wait()
}

func TestDrainedNodesAreLastResort(t *testing.T) {
	draining := func(s *autoradio.NodeStatus) { s.Draining = true }
	tests := []struct {
		name    string
		nodes   []*autoradio.NodeStatus
		drained []string
		mount   string
		want    []string
	}{
		{"drained by an operator", []*autoradio.NodeStatus{up("a", 0, 10, "/m"), up("b", 0, 10, "/m")}, []string{"a"}, "/m", []string{"b"}},
		{"draining by itself", []*autoradio.NodeStatus{with(up("a", 0, 10, "/m"), draining), up("b", 0, 10, "/m")}, nil, "/m", []string{"b"}},
		{"any mount, for DNS", []*autoradio.NodeStatus{up("a", 0, 10), up("b", 0, 10), up("c", 0, 10)}, []string{"b", "c"}, "", []string{"a"}},
		{"every node drained: serve anyway", []*autoradio.NodeStatus{up("a", 0, 10, "/m"), with(up("b", 0, 10, "/m"), draining)}, []string{"a"}, "/m", []string{"a", "b"}},
		{"only drained nodes carry the mount", []*autoradio.NodeStatus{up("a", 0, 10, "/m"), up("b", 0, 10, "/x")}, []string{"a"}, "/m", []string{"a"}},
		{"the other node is full", []*autoradio.NodeStatus{up("a", 0, 10, "/m"), up("b", 10, 10, "/m")}, []string{"a"}, "/m", []string{"a"}},
		{"a drained node still needs its Icecast", []*autoradio.NodeStatus{with(up("a", 0, 10, "/m"), func(s *autoradio.NodeStatus) { s.IcecastOK = false })}, []string{"a"}, "/m", nil},
		{"unknown names are ignored", []*autoradio.NodeStatus{up("a", 0, 10, "/m")}, []string{"zz"}, "/m", []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range []string{"drained first", "statuses first"} {
				b := seeded(lb.Weighted, 1)
				if order == "drained first" {
					b.SetDrained(tt.drained)
					b.Update(tt.nodes)
				} else {
					b.Update(tt.nodes)
					b.SetDrained(tt.drained)
				}
				got := names(b.Rank(tt.mount, 0))
				slices.Sort(got)
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s: Rank(%q) = %v, want %v", order, tt.mount, got, tt.want)
				}
			}
		})
	}
	// Undrained, a node is back in the pools.
	b := seeded(lb.Weighted, 1)
	b.Update([]*autoradio.NodeStatus{up("a", 0, 10, "/m"), up("b", 0, 10, "/m")})
	b.SetDrained([]string{"a"})
	b.SetDrained(nil)
	if got := names(b.Rank("/m", 0)); len(got) != 2 {
		t.Errorf("after undrain: Rank = %v, want a and b", got)
	}
}
