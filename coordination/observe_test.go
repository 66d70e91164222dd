package coordination_test

import (
	"context"
	"testing"
	"time"

	"autoradio"
	"autoradio/coordination"
	"autoradio/internal/etcdtest"
)

func TestObserveLeader(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	_, opts := quick()
	const prefix = "/test/observed"
	leaders := make(chan string, 16)
	goRun(t, func(ctx context.Context) error {
		return coordination.ObserveLeader(ctx, cli, prefix, func(v []byte) {
			if v == nil {
				leaders <- "<none>"
				return
			}
			leaders <- string(v)
		}, opts...)
	})
	next := func(want string) {
		t.Helper()
		if got := receive(t, leaders, 5*time.Second, "leader "+want); got != want {
			t.Fatalf("observed leader %s, want %s", got, want)
		}
	}
	next("<none>")

	ctx := testContext(t, 20*time.Second)
	elA := coordination.NewElection(newSession(t, cli), prefix, opts...)
	elB := coordination.NewElection(newSession(t, cli), prefix, opts...)
	if _, err := elA.Campaign(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	next(`"a"`)
	campaignB := make(chan error, 1)
	goRun(t, func(ctx context.Context) error {
		_, err := elB.Campaign(ctx, "b")
		campaignB <- err
		return err
	})
	// b's candidacy changes nothing that an observer sees.
	if err := elA.Proclaim(ctx, "a2"); err != nil {
		t.Fatal(err)
	}
	next(`"a2"`)

	if err := elA.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	next(`"b"`)
	if err := receive(t, campaignB, 5*time.Second, "leadership of b"); err != nil {
		t.Fatal(err)
	}
	if err := elB.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	next("<none>")
	select {
	case v := <-leaders:
		t.Errorf("unexpected extra observation %s", v)
	default:
	}
}

func TestWatchMaster(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	log, opts := quick()
	masters := make(chan string, 16)
	goRun(t, func(ctx context.Context) error {
		return coordination.WatchMaster(ctx, cli, func(m *autoradio.MasterInfo) {
			if m == nil {
				masters <- "<none>"
				return
			}
			masters <- m.IcecastAddr()
		}, opts...)
	})
	next := func(want string) {
		t.Helper()
		if got := receive(t, masters, 5*time.Second, "master "+want); got != want {
			t.Fatalf("observed master %s, want %s", got, want)
		}
	}
	next("<none>")

	ctx := testContext(t, 20*time.Second)
	el := coordination.NewElection(newSession(t, cli), autoradio.MasterElection, opts...)
	if _, err := el.Campaign(ctx, autoradio.MasterInfo{Name: "n1", IPs: []string{"127.0.0.11"}, IcecastPort: 8000}); err != nil {
		t.Fatal(err)
	}
	next("127.0.0.11:8000")
	// A record that does not decode counts as no master, and is logged.
	if err := el.Proclaim(ctx, autoradio.MasterInfo{Name: "n1"}); err != nil {
		t.Fatal(err)
	}
	next("<none>")
	if n := log.count("ignoring bad master record"); n != 1 {
		t.Errorf("the bad record was logged %d times, want once", n)
	}
	if err := el.Proclaim(ctx, autoradio.MasterInfo{Name: "n1", IPs: []string{"127.0.0.12"}, IcecastPort: 8001}); err != nil {
		t.Fatal(err)
	}
	next("127.0.0.12:8001")
	if err := el.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	next("<none>")
}
