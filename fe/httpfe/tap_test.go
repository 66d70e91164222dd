package httpfe

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"autoradio"
	"autoradio/fe/fanout"
)

// TestTapAccess: /_tap/ answers loopback and the live cluster nodes'
// addresses (a mount without a tapped source: 404 either way, as for
// anyone else), and no one else.
func TestTapAccess(t *testing.T) {
	c := newFakeCluster()
	c.setNodes(&autoradio.NodeStatus{Name: "n1", IPs: []string{"192.0.2.1", "2001:db8::1"}, IcecastPort: 8000})
	h, _ := newTestHandler(t, Config{Addr: "127.0.0.171:80", NodeName: "n1"}, c)
	for _, tc := range []struct {
		remote string
		peer   bool
	}{
		{"127.0.0.1:4000", true},
		{"127.0.0.172:4000", true},
		{"[::1]:4000", true},
		{"192.0.2.1:4000", true},
		{"[2001:db8::1]:4000", true},
		{"[::ffff:192.0.2.1]:4000", true},
		{"192.0.2.2:4000", false},
		{"[2001:db8::2]:4000", false},
		{"garbage", false},
	} {
		if got := h.clusterPeer(tc.remote); got != tc.peer {
			t.Errorf("clusterPeer(%s) = %v, want %v", tc.remote, got, tc.peer)
		}
		r := httptest.NewRequest(http.MethodGet, "/_tap/live.mp3", nil)
		r.RemoteAddr = tc.remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusNotFound {
			t.Errorf("GET /_tap/live.mp3 from %s: %d, want 404", tc.remote, w.Code)
		}
	}
}

// TestRelaysLostAccess: only the node itself (loopback, its own
// addresses) may tell its front-end that its relays were lost, by POST.
func TestRelaysLostAccess(t *testing.T) {
	c := newFakeCluster()
	c.setNodes(
		&autoradio.NodeStatus{Name: "n1", IPs: []string{"192.0.2.1"}, IcecastPort: 8000},
		&autoradio.NodeStatus{Name: "n2", IPs: []string{"192.0.2.2"}, IcecastPort: 8000},
	)
	h, _ := newTestHandler(t, Config{Addr: "127.0.0.171:80", NodeName: "n1"}, c)
	for _, tc := range []struct {
		method, remote string
		code           int
	}{
		{http.MethodPost, "127.0.0.1:4000", http.StatusNoContent},
		{http.MethodPost, "192.0.2.1:4000", http.StatusNoContent},
		{http.MethodPost, "192.0.2.2:4000", http.StatusNotFound}, // another node
		{http.MethodPost, "198.51.100.1:4000", http.StatusNotFound},
		{http.MethodGet, "127.0.0.1:4000", http.StatusMethodNotAllowed},
	} {
		r := httptest.NewRequest(tc.method, autoradio.RelaysLostPath, nil)
		r.RemoteAddr = tc.remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("%s %s from %s: %d, want %d", tc.method, autoradio.RelaysLostPath, tc.remote, w.Code, tc.code)
		}
	}
}

// TestHealthy: a feed on a tap goes back only to Icecasts that serve the
// mount under a master elected since the stall: the master's own, and
// relays that pull from it alone; none stepping aside, none while the
// master is the one of the stall. The taps are this node's first, the
// master's last.
func TestHealthy(t *testing.T) {
	const mount = "/live.mp3"
	live := []autoradio.MountStatus{{Name: mount, SourceConnected: true}}
	node := func(name, ip string, master bool, relaysFrom ...string) *autoradio.NodeStatus {
		return &autoradio.NodeStatus{Name: name, IPs: []string{ip}, IcecastPort: 8000, IcecastOK: true,
			IsMaster: master, Mounts: live, RelaysFrom: relaysFrom}
	}
	c := newFakeCluster()
	h, _ := newTestHandler(t, Config{Addr: "127.0.0.171:80", NodeName: "n1"}, c)
	names := func(os []fanout.Other) []string {
		var out []string
		for _, o := range os {
			out = append(out, o.Name)
		}
		return out
	}
	c.setMaster(&autoradio.MasterInfo{Name: "n2", IPs: []string{"192.0.2.2"}, IcecastPort: 8000})
	aside := node("n4", "192.0.2.4", false, "192.0.2.2:8000")
	aside.StepAside = true
	c.setNodes(
		node("n1", "192.0.2.1", false, "192.0.2.2:8000"),
		node("n2", "192.0.2.2", true),
		node("n3", "192.0.2.3", false, "192.0.2.9:8000"),
		aside,
		node("n5", "192.0.2.5", false, "192.0.2.9:8000", "192.0.2.2:8000"),
		node("n6", "192.0.2.6", false, "192.0.2.2:8000"),
	)
	if local, others := h.healthy(mount, "n2"); local || len(others) > 0 {
		t.Errorf("under the master of the stall: local %v, others %v", local, names(others))
	}
	local, others := h.healthy(mount, "n9")
	if !local || !slices.Equal(names(others), []string{"n2", "n6"}) {
		t.Errorf("under a new master: local %v, others %v; want true, [n2 n6]", local, names(others))
	}
	if got := names(h.tapsOf(mount)); !slices.Equal(got, []string{"n1", "n3", "n4", "n5", "n6", "n2"}) {
		t.Errorf("taps %v", got)
	}

	// A new master without the source yet: its relays play its
	// fallback, and none is healthy.
	c.setNodes(
		node("n1", "192.0.2.1", false, "192.0.2.2:8000"),
		&autoradio.NodeStatus{Name: "n2", IPs: []string{"192.0.2.2"}, IcecastPort: 8000, IcecastOK: true, IsMaster: true},
		node("n6", "192.0.2.6", false, "192.0.2.2:8000"),
	)
	if local, others := h.healthy(mount, "n9"); local || len(others) > 0 {
		t.Errorf("under a new master without the source: local %v, others %v", local, names(others))
	}
}
