package node

import (
	"testing"

	"autoradio"
)

func TestSetNodesCountsOthersAndWakesOnlyOnChange(t *testing.T) {
	s := newState(nil)
	drain := func() bool {
		select {
		case <-s.changed:
			return true
		default:
			return false
		}
	}
	nodes := func(names ...string) []*autoradio.NodeStatus {
		var ns []*autoradio.NodeStatus
		for _, n := range names {
			ns = append(ns, &autoradio.NodeStatus{Name: n})
		}
		return ns
	}
	for _, step := range []struct {
		nodes []*autoradio.NodeStatus
		want  int
		wake  bool
	}{
		{nodes("n1"), 0, false}, // only itself: nothing changed
		{nodes("n1", "n2", "n3"), 2, true},
		{nodes("n3", "n2", "n1"), 2, false}, // a status update, same set
		{nodes("n2", "n3"), 2, false},       // its own record expired
		{nodes("n1", "n2"), 1, true},
	} {
		s.setNodes("n1", step.nodes)
		if got := s.role("n1").others; got != step.want {
			t.Errorf("%d nodes: others = %d, want %d", len(step.nodes), got, step.want)
		}
		if woke := drain(); woke != step.wake {
			t.Errorf("%d nodes: render loop woken = %v, want %v", len(step.nodes), woke, step.wake)
		}
	}
}

func TestMasterParamsCountRelayNodes(t *testing.T) {
	n := &Node{cfg: Config{Name: "n1", IPs: []string{"127.0.0.1"}, IcecastPort: 8000, MaxListeners: 100}}
	r := role{isMaster: true, others: 2, mountsOK: true, mounts: []*autoradio.Mount{{Name: "/a.ogg"}}}
	if p := n.params(r); !p.IsMaster || p.RelayNodes != 2 {
		t.Errorf("master params: IsMaster %v, RelayNodes %d; want true, 2", p.IsMaster, p.RelayNodes)
	}
}
