package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/testenv"
)

func TestDrainUndrainAndStatus(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ctx := testenv.Context(t, 10*time.Second)
	now := time.Now()
	for _, n := range []autoradio.NodeStatus{
		{Name: "n1", IPs: []string{"127.0.0.11"}, IcecastPort: 8000, IcecastOK: true, UpdatedAt: now},
		{Name: "n2", IPs: []string{"127.0.0.12"}, IcecastPort: 8000, IcecastOK: true, Draining: true, UpdatedAt: now},
	} {
		data, _ := json.Marshal(n)
		if _, err := c.client.Etcd().Put(ctx, autoradio.NodeKey(n.Name), string(data)); err != nil {
			t.Fatal(err)
		}
	}
	c.fails(1, "n9: no such node in the cluster (live nodes: n1, n2)", "drain", "n9")
	c.fails(1, "n9: no such node in the cluster", "undrain", "n9")
	c.fails(1, "bad node name", "drain", "a/b")
	c.fails(2, "accepts 1 arg", "drain")

	if out := c.ok("drain", "n1"); out != "n1 drained\n" {
		t.Errorf("drain: %q", out)
	}
	if out := c.ok("drain", "n1"); out != "n1 was already drained\n" {
		t.Errorf("drain again: %q", out)
	}
	lines := strings.Split(c.ok("status"), "\n")
	if !strings.HasPrefix(lines[1], "drained: n1 (since ") || strings.Contains(lines[1], "not running") {
		t.Errorf("status does not list n1 as drained: %q", lines)
	}
	if !hasLine(lines, []string{"n1", "(drained)", "127.0.0.11", "ok", "0/unlimited", "0/unlimited", "0s", "ago"}) {
		t.Errorf("status does not mark n1 drained:\n%s", strings.Join(lines, "\n"))
	}
	// A node that says it is draining without a drain record is stopping.
	if !hasLine(lines, []string{"n2", "(stopping)", "127.0.0.12", "ok", "0/unlimited", "0/unlimited", "0s", "ago"}) {
		t.Errorf("status does not mark n2 stopping:\n%s", strings.Join(lines, "\n"))
	}

	if _, err := c.client.Etcd().Delete(ctx, autoradio.NodeKey("n1")); err != nil {
		t.Fatal(err)
	}
	if out := c.ok("status"); !strings.Contains(out, "drained: n1 (since ") || !strings.Contains(out, ", not running)") {
		t.Errorf("status of a drained node that is down:\n%s", out)
	}
	if out := c.ok("undrain", "n1"); out != "n1 undrained\n" {
		t.Errorf("undrain: %q", out)
	}
	if out := c.ok("undrain", "n2"); out != "n2 was not drained\n" {
		t.Errorf("undrain of a node not drained: %q", out)
	}
	if out := c.ok("status"); strings.Contains(out, "drained") {
		t.Errorf("status after undrain:\n%s", out)
	}
}
