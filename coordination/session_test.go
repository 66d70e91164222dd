package coordination_test

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"autoradio/coordination"
	"autoradio/internal/etcdtest"
)

// sessionRun is what one call of the session function saw.
type sessionRun struct {
	lease clientv3.LeaseID
	cause error // context.Cause of its context when it ended
}

// recordSessions returns a SessionFunc reporting each start on started and
// each end on ended.
func recordSessions(started chan<- clientv3.LeaseID, ended chan<- sessionRun) coordination.SessionFunc {
	return func(ctx context.Context, s *concurrency.Session) error {
		started <- s.Lease()
		<-ctx.Done()
		ended <- sessionRun{s.Lease(), context.Cause(ctx)}
		return nil
	}
}

func TestRunSessionSurvivesEtcdOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a lease to expire")
	}
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	_, opts := quick()
	lost := make(chan error, 4)
	started := make(chan clientv3.LeaseID, 4)
	ended := make(chan sessionRun, 4)
	opts = append(opts, coordination.WithSessionLost(func(err error) { lost <- err }))
	_, errc := goRun(t, func(ctx context.Context) error {
		return coordination.RunSession(ctx, cli, ttl, recordSessions(started, ended), opts...)
	})
	first := receive(t, started, 5*time.Second, "first session")

	srv.Stop()
	stopped := time.Now()
	run := receive(t, ended, ttl+3*time.Second, "end of the session while etcd is down")
	t.Logf("session lost %v after etcd stopped (TTL %v)", time.Since(stopped).Round(time.Millisecond), ttl)
	if run.lease != first || !errors.Is(run.cause, coordination.ErrSessionLost) {
		t.Errorf("session %x ended with cause %v, want %x with ErrSessionLost", run.lease, run.cause, first)
	}
	if err := receive(t, lost, time.Second, "session lost report"); !errors.Is(err, coordination.ErrSessionLost) {
		t.Errorf("reported %v, want ErrSessionLost", err)
	}
	// Keep etcd down for a while: RunSession must keep trying, not spin
	// and not start fn without a session.
	time.Sleep(time.Second)
	select {
	case l := <-started:
		t.Fatalf("session %x started while etcd is down", l)
	default:
	}

	srv.Restart()
	restarted := time.Now()
	second := receive(t, started, 10*time.Second, "new session after restart")
	t.Logf("new session %v after etcd restarted", time.Since(restarted).Round(time.Millisecond))
	if second == first {
		t.Errorf("new session reuses lease %x", first)
	}
	assertLeaseAlive(t, cli, second)
	select {
	case err := <-errc:
		t.Fatalf("RunSession returned early: %v", err)
	default:
	}
}

func assertLeaseAlive(t *testing.T, cli *clientv3.Client, id clientv3.LeaseID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cli.TimeToLive(ctx, id)
	if err != nil {
		t.Fatalf("lease %x: %v", id, err)
	}
	if resp.TTL <= 0 {
		t.Errorf("lease %x is not alive (TTL %d)", id, resp.TTL)
	}
}

func TestRunSessionReturnsWhileEtcdIsDown(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	_, opts := quick()
	started := make(chan clientv3.LeaseID, 1)
	ended := make(chan sessionRun, 1)
	cancel, errc := goRun(t, func(ctx context.Context) error {
		return coordination.RunSession(ctx, cli, ttl, recordSessions(started, ended), opts...)
	})
	receive(t, started, 5*time.Second, "session")
	srv.Stop()
	cancel()
	// Revoking the lease is bounded by the attempt timeout (1s).
	if err := receive(t, errc, 3*time.Second, "return of RunSession"); err != nil {
		t.Errorf("RunSession: %v", err)
	}
	if run := <-ended; !errors.Is(run.cause, context.Canceled) {
		t.Errorf("session function's context ended with %v, want context.Canceled", run.cause)
	}
}

func TestRunSessionRenewsAfterFailure(t *testing.T) {
	t.Parallel()
	srv := etcdtest.Start(t)
	cli := newClient(t, srv)
	_, opts := quick()
	leases := make(chan clientv3.LeaseID, 2)
	calls := 0
	goRun(t, func(ctx context.Context) error {
		return coordination.RunSession(ctx, cli, ttl, func(ctx context.Context, s *concurrency.Session) error {
			leases <- s.Lease()
			if calls++; calls == 1 {
				return errors.New("failing on purpose")
			}
			<-ctx.Done()
			return nil
		}, opts...)
	})
	first := receive(t, leases, 5*time.Second, "first session")
	second := receive(t, leases, 5*time.Second, "second session")
	if first == second {
		t.Fatalf("same lease %x after a failure", first)
	}
	resp, err := cli.TimeToLive(testContext(t, 5*time.Second), first)
	if err != nil || resp.TTL != -1 {
		t.Errorf("lease of the failed session: TTL %v, err %v; want revoked (-1)", resp.TTL, err)
	}
	assertLeaseAlive(t, cli, second)
}
