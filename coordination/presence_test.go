package coordination_test

import (
	"context"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio"
	"autoradio/coordination"
	"autoradio/internal/etcdtest"
)

func node(name string, listeners int) *autoradio.NodeStatus {
	return &autoradio.NodeStatus{Name: name, IPs: []string{"127.0.0.11"}, IcecastPort: 8000, Listeners: listeners}
}

// TestPresenceExpires registers a node on a client that then dies without
// revoking its lease, and watches its key go away with the lease.
func TestPresenceExpires(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for lease expiry")
	}
	t.Parallel()
	srv := etcdtest.Start(t)
	cli, deadCli := newClient(t, srv), newClient(t, srv)
	_, opts := quick()
	ctx := testContext(t, 20*time.Second)

	nodes := make(chan []*autoradio.NodeStatus, 16)
	goRun(t, func(ctx context.Context) error {
		return coordination.WatchNodes(ctx, cli, func(ns []*autoradio.NodeStatus) { nodes <- ns }, opts...)
	})
	waitNodes := func(want ...string) {
		t.Helper()
		for {
			ns := receive(t, nodes, ttl+time.Second, "node list")
			if names(ns) == strings.Join(want, " ") {
				return
			}
		}
	}
	waitNodes()

	p, err := coordination.Register(ctx, newSession(t, deadCli), autoradio.NodeKey("dead"), node("dead", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := coordination.Register(ctx, newSession(t, cli), autoradio.NodeKey("alive"), node("alive", 1)); err != nil {
		t.Fatal(err)
	}
	waitNodes("alive", "dead")
	for _, c := range []struct {
		listeners int
		wrote     bool
	}{{1, false}, {2, true}, {2, false}} {
		if wrote, err := p.Update(ctx, node("dead", c.listeners)); err != nil || wrote != c.wrote {
			t.Errorf("Update(%d listeners) = %v, %v; want %v", c.listeners, wrote, err, c.wrote)
		}
	}

	deadCli.Close()
	died := time.Now()
	waitNodes("alive")
	t.Logf("presence gone %v after its client died (TTL %v)", time.Since(died).Round(time.Millisecond), ttl)
}

func TestPresenceRemove(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	ctx := testContext(t, 10*time.Second)
	s := newSession(t, cli)
	p, err := coordination.Register(ctx, s, autoradio.NodeKey("n"), node("n", 0))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, p.Key())
	if err != nil || len(resp.Kvs) != 1 || resp.Kvs[0].Lease != int64(s.Lease()) {
		t.Fatalf("registered key: %v, %v; want one key on lease %x", resp, err, s.Lease())
	}
	if err := p.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, err := cli.Get(ctx, p.Key(), clientv3.WithCountOnly()); err != nil || resp.Count != 0 {
		t.Errorf("key after Remove: %v, %v", resp, err)
	}
	if wrote, err := p.Update(ctx, node("n", 0)); err != nil || !wrote {
		t.Errorf("Update after Remove = %v, %v; want a write", wrote, err)
	}
}

func names(ns []*autoradio.NodeStatus) string {
	var s []string
	for _, n := range ns {
		s = append(s, n.Name)
	}
	return strings.Join(s, " ")
}
