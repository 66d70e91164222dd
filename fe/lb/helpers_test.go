package lb_test

import (
	"math/rand/v2"
	"time"

	"autoradio"
	"autoradio/fe/lb"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// up returns a healthy node with the given listener count and maximum that
// serves the given mounts with a live source.
func up(name string, listeners, max int, mounts ...string) *autoradio.NodeStatus {
	s := &autoradio.NodeStatus{
		Name: name, IPs: []string{"127.0.0.1"}, IcecastPort: 8000, IcecastOK: true,
		Listeners: listeners, MaxListeners: max, UpdatedAt: epoch,
	}
	for _, m := range mounts {
		s.Mounts = append(s.Mounts, autoradio.MountStatus{Name: m, SourceConnected: true, BitrateKbps: 128})
	}
	return s
}

// with applies f to s and returns s, to tweak a node inline in a table.
func with(s *autoradio.NodeStatus, f func(*autoradio.NodeStatus)) *autoradio.NodeStatus {
	f(s)
	return s
}

func seeded(p lb.Policy, seed uint64) *lb.Balancer {
	return lb.New(lb.Config{Policy: p, Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))})
}

func names(nodes []*autoradio.NodeStatus) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}
