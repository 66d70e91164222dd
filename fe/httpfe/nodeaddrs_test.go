package httpfe

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"autoradio"
)

// TestRedirectFollowsNewStatus checks that the addresses formatted once
// per node status are formatted again for the node's next status.
func TestRedirectFollowsNewStatus(t *testing.T) {
	c := testCluster()
	h, _ := newTestHandler(t, Config{HTTPPort: 8080}, c)
	location := func() string {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/live.ogg", nil))
		return w.Header().Get("Location")
	}
	if got := location(); got != "http://192.0.2.1:8080/_stream/live.ogg" {
		t.Fatalf("Location %q", got)
	}
	moved := *c.Nodes()[0]
	moved.IPs = []string{"192.0.2.77"}
	c.setNodes(&moved)
	if got := location(); got != "http://192.0.2.77:8080/_stream/live.ogg" {
		t.Errorf("Location after the node's new status %q", got)
	}
	c.setNodes(&autoradio.NodeStatus{Name: moved.Name, IcecastOK: true, IPs: []string{"not an address"}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/live.ogg", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("a node without a valid address: %d, want 503", w.Code)
	}
}
