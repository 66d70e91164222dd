package autoradio_test

import (
	"encoding/json"
	"testing"
	"time"

	"autoradio"
)

func TestClientDrainAndUndrain(t *testing.T) {
	c, _, ctx := newClient(t)
	st, _ := json.Marshal(&autoradio.NodeStatus{Name: "n1", IPs: []string{"127.0.0.1"}, IcecastPort: 8000})
	if _, err := c.Etcd().Put(ctx, autoradio.NodeKey("n1"), string(st)); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	_, err := c.DrainNode(ctx, "n9", now)
	wantErr(t, err, autoradio.ErrNodeNotFound, "live nodes: n1")
	_, err = c.UndrainNode(ctx, "n9")
	wantErr(t, err, autoradio.ErrNodeNotFound, "n9")

	if already, err := c.DrainNode(ctx, "n1", now); err != nil || already {
		t.Fatalf("DrainNode(n1) = %v, %v", already, err)
	}
	if already, err := c.DrainNode(ctx, "n1", now.Add(time.Hour)); err != nil || !already {
		t.Fatalf("DrainNode(n1) again = %v, %v; want already drained", already, err)
	}
	drains, err := c.DrainedNodes(ctx)
	if err != nil || len(drains) != 1 || drains[0].Name != "n1" || !drains[0].Since.Equal(now) {
		t.Fatalf("DrainedNodes = %+v, %v; want n1 since %v", drains, err, now)
	}

	// A drained node that is down stays drained, and can be undrained.
	if _, err := c.Etcd().Delete(ctx, autoradio.NodeKey("n1")); err != nil {
		t.Fatal(err)
	}
	if already, err := c.DrainNode(ctx, "n1", now); err != nil || !already {
		t.Fatalf("DrainNode(n1) while down = %v, %v", already, err)
	}
	if was, err := c.UndrainNode(ctx, "n1"); err != nil || !was {
		t.Fatalf("UndrainNode(n1) = %v, %v", was, err)
	}
	_, err = c.UndrainNode(ctx, "n1")
	wantErr(t, err, autoradio.ErrNodeNotFound, "live nodes: none")
	if drains, err := c.DrainedNodes(ctx); err != nil || len(drains) != 0 {
		t.Fatalf("DrainedNodes after undrain = %+v, %v", drains, err)
	}
}

func TestValidateNodeName(t *testing.T) {
	for _, name := range []string{"", "a/b", "a b", "a\x00", string(make([]byte, 254))} {
		if err := autoradio.ValidateNodeName(name); err == nil {
			t.Errorf("ValidateNodeName(%q) accepted", name)
		}
	}
	for _, name := range []string{"n1", "host-1.example", "Node_2"} {
		if err := autoradio.ValidateNodeName(name); err != nil {
			t.Errorf("ValidateNodeName(%q): %v", name, err)
		}
	}
}
