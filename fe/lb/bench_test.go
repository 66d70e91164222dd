package lb_test

import (
	"fmt"
	"testing"

	"autoradio"
	"autoradio/fe/lb"
)

// benchNodes returns n healthy nodes of varied load, each serving 3 mounts.
func benchNodes(n int) []*autoradio.NodeStatus {
	nodes := make([]*autoradio.NodeStatus, n)
	for i := range nodes {
		s := up(fmt.Sprintf("node%04d", i), i%500, 1000, "/a.ogg", "/b.mp3", "/c.ogg")
		s.BandwidthBps, s.BandwidthLimitBps = float64(i%500)*128e3, 1e9
		nodes[i] = s
	}
	return nodes
}

func BenchmarkPick(b *testing.B) {
	for _, p := range []lb.Policy{lb.Weighted, lb.LeastLoaded, lb.Random} {
		for _, n := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("%v/nodes=%d", p, n), func(b *testing.B) {
				bal := seeded(p, 1)
				bal.Update(benchNodes(n))
				b.ReportAllocs()
				for b.Loop() {
					if _, ok := bal.Pick("/b.mp3"); !ok {
						b.Fatal("no node")
					}
				}
			})
		}
	}
}

func BenchmarkRank(b *testing.B) {
	bal := seeded(lb.Weighted, 1)
	bal.Update(benchNodes(100))
	b.ReportAllocs()
	for b.Loop() {
		bal.Rank("", 5)
	}
}

func BenchmarkUpdate(b *testing.B) {
	bal := seeded(lb.Weighted, 1)
	nodes := benchNodes(100)
	b.ReportAllocs()
	for b.Loop() {
		bal.Update(nodes)
	}
}
