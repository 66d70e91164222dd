package coordination_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"autoradio"
	"autoradio/coordination"
	"autoradio/internal/etcdtest"
)

func master(name string) autoradio.MasterInfo {
	return autoradio.MasterInfo{Name: name, IPs: []string{"127.0.0.1"}, IcecastPort: 8000}
}

func newSession(t *testing.T, cli *clientv3.Client) *concurrency.Session {
	t.Helper()
	s, err := coordination.NewSession(testContext(t, 5*time.Second), cli, ttl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Orphan() })
	return s
}

func TestElectionHandover(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for lease expiry")
	}
	kills := []struct {
		name string
		kill func(t *testing.T, v victim)
	}{
		{"session closed", func(t *testing.T, v victim) {
			if err := v.s.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{"lease revoked", func(t *testing.T, v victim) {
			if _, err := v.other.Revoke(testContext(t, 5*time.Second), v.s.Lease()); err != nil {
				t.Fatal(err)
			}
		}},
		{"client died", func(t *testing.T, v victim) {
			v.cli.Close() // no revocation: the lease must expire
		}},
	}
	for _, k := range kills {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			testHandover(t, k.kill)
		})
	}
}

// victim is the leader to kill: its client and session, and a client of
// someone else.
type victim struct {
	cli, other *clientv3.Client
	s          *concurrency.Session
}

// testHandover runs leader a with Election.Run and follower b with
// Campaign, kills a's session and checks that b takes over in time and that
// a notices.
func testHandover(t *testing.T, kill func(*testing.T, victim)) {
	srv := etcdtest.Start(t)
	cliA, cliB, cliOther := newClient(t, srv), newClient(t, srv), newClient(t, srv)
	_, opts := quick()
	sA, sB := newSession(t, cliA), newSession(t, cliB)
	elA := coordination.NewElection(sA, autoradio.MasterElection, opts...)
	elB := coordination.NewElection(sB, autoradio.MasterElection, opts...)

	led, lost := make(chan struct{}, 1), make(chan error, 1)
	_, runA := goRun(t, func(ctx context.Context) error {
		return elA.Run(ctx, master("a"), func(lctx context.Context) {
			led <- struct{}{}
			<-lctx.Done()
			lost <- context.Cause(lctx)
		})
	})
	receive(t, led, 5*time.Second, "leadership of a")
	assertLeader(t, cliOther, "a")

	campaignB := make(chan error, 1)
	var lctxB context.Context
	goRun(t, func(ctx context.Context) error {
		var err error
		lctxB, err = elB.Campaign(ctx, master("b"))
		campaignB <- err
		return err
	})
	if isLeader(t, elB) {
		t.Fatal("b leads while a does")
	}

	kill(t, victim{cli: cliA, other: cliOther, s: sA})
	killed := time.Now()
	if err := receive(t, campaignB, ttl+time.Second, "leadership of b"); err != nil {
		t.Fatalf("campaign of b: %v", err)
	}
	t.Logf("b leads %v after a was killed", time.Since(killed).Round(time.Millisecond))
	assertLeader(t, cliOther, "b")
	if !isLeader(t, elB) || lctxB.Err() != nil {
		t.Error("b does not know it leads")
	}

	cause := receive(t, lost, ttl+time.Second, "loss of leadership reported to a")
	if !errors.Is(cause, coordination.ErrSessionLost) && !errors.Is(cause, coordination.ErrLeadershipLost) {
		t.Errorf("a's leadership ended with %v, want ErrSessionLost or ErrLeadershipLost", cause)
	}
	if err := receive(t, runA, ttl+time.Second, "return of a's Run"); !errors.Is(err, coordination.ErrSessionLost) {
		t.Errorf("a's Run returned %v, want ErrSessionLost", err)
	}
}

func isLeader(t *testing.T, el *coordination.Election) bool {
	t.Helper()
	ok, err := el.IsLeader(testContext(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// assertLeader checks the master election's leader with Leader.
func assertLeader(t *testing.T, cli *clientv3.Client, name string) {
	t.Helper()
	v, err := coordination.Leader(testContext(t, 5*time.Second), cli, autoradio.MasterElection)
	if err != nil {
		t.Fatal(err)
	}
	var m autoradio.MasterInfo
	if err := json.Unmarshal(v, &m); err != nil || m.Name != name {
		t.Errorf("leader %s (%v), want %s", v, err, name)
	}
}

func TestElectionResignAndProclaim(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	_, opts := quick()
	el := coordination.NewElection(newSession(t, cli), "/test/election", opts...)
	ctx := testContext(t, 10*time.Second)

	if err := el.Proclaim(ctx, "x"); !errors.Is(err, coordination.ErrNotLeader) {
		t.Errorf("Proclaim before leading: %v, want ErrNotLeader", err)
	}
	lctx, err := el.Campaign(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := el.Campaign(ctx, "again"); err == nil {
		t.Error("second Campaign while leading succeeded")
	}
	if err := el.Proclaim(ctx, "second"); err != nil {
		t.Fatal(err)
	}
	if v, err := coordination.Leader(ctx, cli, "/test/election"); err != nil || string(v) != `"second"` {
		t.Errorf("leader value %s (%v), want \"second\"", v, err)
	}
	if err := el.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(context.Cause(lctx), context.Canceled) {
		t.Errorf("leadership context after Resign: %v", context.Cause(lctx))
	}
	if _, err := coordination.Leader(ctx, cli, "/test/election"); !errors.Is(err, coordination.ErrNoLeader) {
		t.Errorf("Leader after Resign: %v, want ErrNoLeader", err)
	}
	// A leadership that ends on its own does not block a new campaign.
	lctx, err = el.Campaign(ctx, "third")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Delete(ctx, el.Key()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lctx.Done():
		if !errors.Is(context.Cause(lctx), coordination.ErrLeadershipLost) {
			t.Errorf("leadership ended with %v, want ErrLeadershipLost", context.Cause(lctx))
		}
	case <-ctx.Done():
		t.Fatal("deleting the leader key did not end the leadership")
	}
	if _, err := el.Campaign(ctx, "fourth"); err != nil {
		t.Fatalf("campaign after losing the key: %v", err)
	}
	if err := el.Resign(ctx); err != nil {
		t.Fatal(err)
	}
}
