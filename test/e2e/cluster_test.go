package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	"autoradio/internal/clustertest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
)

// twoNodes starts radiod on 127.0.0.11 and 127.0.0.12 (same port) and
// returns them as (master, relay) once a master is elected.
func twoNodes(t *testing.T, etcd *etcdtest.Server, c *autoradio.Client) (*clustertest.Radiod, *clustertest.Radiod) {
	t.Helper()
	port := clustertest.FreePort(t, "127.0.0.11", "127.0.0.12")
	n1 := clustertest.StartRadiod(t, etcd.URL(), "n1", "127.0.0.11", port)
	m := clustertest.Master(t, c, 10*time.Second, n1)
	n2 := clustertest.StartRadiod(t, etcd.URL(), "n2", "127.0.0.12", port)
	clustertest.WaitNodesUp(t, c, 2, 10*time.Second)
	if m == n1 {
		return n1, n2
	}
	return n2, n1
}

// listenUntilAudio retries a listener on url until it receives audio, as
// a player would, and returns it.
func listenUntilAudio(t *testing.T, ctx context.Context, url string, timeout time.Duration) *audiotest.Listener {
	t.Helper()
	var l *audiotest.Listener
	testenv.Eventually(t, timeout, func() error {
		if l != nil {
			l.Stop()
		}
		l = audiotest.Listen(ctx, url)
		return l.WaitBytes(0, 4096, time.Second)
	})
	t.Cleanup(func() { l.Stop() })
	return l
}

func TestRelayNodeServesMount(t *testing.T) {
	ctx, etcd, c := setup(t, 90*time.Second)
	master, relay := twoNodes(t, etcd, c)

	m := clustertest.NewMount(t, "/live.ogg")
	created := time.Now()
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	audiotest.Source(t, clustertest.SourceURL(master.Addr(), m))
	listenUntilAudio(t, ctx, relay.URL(m.Name), 10*time.Second)
	t.Logf("create-mount to first audio on the relay node: %v", time.Since(created).Round(time.Millisecond))
	// That audio may be the silence fallback, which Icecast leaves
	// mid-page when the relay comes up. A listener that arrives once the
	// relay is live gets a clean stream.
	relay.WaitSource(10*time.Second, m.Name)
	t.Logf("create-mount to live relay: %v", time.Since(created).Round(time.Millisecond))
	decodeCapture(t, ctx, relay.URL(m.Name), 4*time.Second)

	// The master does not count the relay's connection as a listener.
	testenv.Eventually(t, 5*time.Second, func() error {
		nodes, err := c.ListNodes(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if ms, ok := n.Mount(m.Name); n.Name == master.Name && (!ok || ms.Listeners != 0 || !ms.SourceConnected) {
				return fmt.Errorf("master reports %+v", ms)
			}
		}
		return nil
	})
}

func TestMasterFailover(t *testing.T) {
	ctx, etcd, c := setup(t, 120*time.Second)
	oldMaster, survivor := twoNodes(t, etcd, c)
	m := createMount(t, ctx, c, "/live.ogg")
	src := audiotest.Source(t, clustertest.SourceURL(oldMaster.Addr(), m))
	l := listenUntilAudio(t, ctx, survivor.URL(m.Name), 15*time.Second)

	// The master's host dies: radiod, its Icecast and the source on it.
	oldMaster.KillHost()
	src.Kill()
	killed := time.Now()

	clustertest.Master(t, c, clustertest.SessionTTL+2*time.Second, survivor)
	elected := time.Since(killed)
	// The source reconnects, now to the new master (as it would through
	// the front-end or DNS).
	audiotest.Source(t, clustertest.SourceURL(survivor.Addr(), m))
	survivor.WaitSource(15*time.Second, m.Name)
	live := time.Since(killed)
	mark := l.Mark()
	if err := l.WaitBytes(mark, 32*1024, 10*time.Second); err != nil {
		t.Fatalf("listener on %s after failover: %v", survivor.Name, err)
	}
	t.Logf("failover: new master after %v, source live on it after %v; listener stayed connected: %v, longest gap between reads: %v",
		elected.Round(time.Millisecond), live.Round(time.Millisecond), l.Err() == nil, l.MaxGap().Round(time.Millisecond))
	if err := l.Err(); err != nil {
		t.Errorf("the listener attached to %s was disconnected: %v", survivor.Name, err)
	}
	decodeCapture(t, ctx, survivor.URL(m.Name), 3*time.Second)
}

func TestEtcdOutage(t *testing.T) {
	ctx, etcd, c := setup(t, 150*time.Second)
	master1, relay := twoNodes(t, etcd, c)
	m := createMount(t, ctx, c, "/live.ogg")
	audiotest.Source(t, clustertest.SourceURL(master1.Addr(), m))
	l := listenUntilAudio(t, ctx, relay.URL(m.Name), 15*time.Second)

	etcd.Stop()
	down := time.Now()
	// 20 s without etcd, longer than the session TTL: the listener keeps
	// receiving audio all along.
	for time.Since(down) < 20*time.Second {
		mark := l.Mark()
		if err := l.WaitBytes(mark, 4096, 3*time.Second); err != nil {
			t.Fatalf("%v into the etcd outage: %v", time.Since(down).Round(time.Second), err)
		}
		time.Sleep(time.Second) // pacing the checks, not synchronising
	}
	t.Logf("listener on the relay during a %v etcd outage: longest gap between reads %v",
		time.Since(down).Round(time.Second), l.MaxGap().Round(time.Millisecond))
	etcd.Restart()
	back := time.Now()

	// After etcd returns, the cluster settles on a master (possibly the
	// other node), and a new mount reaches it within 2 s.
	master2 := settledMaster(t, c, back, 4*clustertest.SessionTTL, master1, relay)
	t.Logf("master %s settled %v after etcd returned", master2.Name, time.Since(back).Round(time.Millisecond))
	m2 := createMount(t, ctx, c, "/after.ogg")
	created := time.Now()
	testenv.Eventually(t, 2*time.Second, func() error {
		code, err := clustertest.SourceStatus(master2.Addr(), m2.Name, m2.Username, m2.Password)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("status %d", code)
		}
		return err
	})
	t.Logf("mount created after the outage accepted on %s in %v", master2.Name, time.Since(created).Round(time.Millisecond))
}

// settledMaster waits for an elected master that has published, since
// after, a status saying it is master, and returns it.
func settledMaster(t *testing.T, c *autoradio.Client, after time.Time, timeout time.Duration, nodes ...*clustertest.Radiod) *clustertest.Radiod {
	t.Helper()
	var found *clustertest.Radiod
	testenv.Eventually(t, timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		m, err := c.Master(ctx)
		if err != nil {
			return err
		}
		statuses, err := c.ListNodes(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(nodes, func(n *clustertest.Radiod) bool { return n.Name == m.Name })
		if i < 0 {
			return fmt.Errorf("master is %s", m.Name)
		}
		if !slices.ContainsFunc(statuses, func(st *autoradio.NodeStatus) bool {
			return st.Name == m.Name && st.IsMaster && st.UpdatedAt.After(after)
		}) {
			return fmt.Errorf("master %s has not published a fresh status", m.Name)
		}
		found = nodes[i]
		return nil
	})
	return found
}

func TestRadiodRestartReplacesItsOldIcecast(t *testing.T) {
	ctx, etcd, c := setup(t, 60*time.Second)
	n1 := oneNode(t, etcd, c)
	m := createMount(t, ctx, c, "/live.ogg")
	testenv.Eventually(t, 10*time.Second, func() error { _, err := n1.Status(); return err })
	old := n1.IcecastPID()
	n1.Proc.Kill() // radiod only: its Icecast keeps running and holds the port
	if old == 0 || n1.IcecastPID() != old {
		t.Fatalf("icecast %d did not outlive radiod", old)
	}
	n1.Start()
	testenv.Eventually(t, 15*time.Second, func() error {
		if pid := n1.IcecastPID(); pid == 0 || pid == old {
			return fmt.Errorf("old icecast %d still there", old)
		}
		_, err := n1.Status()
		return err
	})
	audiotest.Source(t, clustertest.SourceURL(n1.Addr(), m))
	n1.WaitSource(10*time.Second, m.Name)
	decodeCapture(t, ctx, n1.URL(m.Name), 3*time.Second)
}

func TestSourceLossKeepsRelayListeners(t *testing.T) {
	ctx, etcd, c := setup(t, 90*time.Second)
	master, relay := twoNodes(t, etcd, c)
	// MP3 decodes from any point of a stream: what the listener gets can
	// be checked for silence (the fallback) or tone (live).
	m := createMount(t, ctx, c, "/live.mp3")
	src := audiotest.Source(t, clustertest.SourceURL(master.Addr(), m))
	l := listenUntilAudio(t, ctx, relay.URL(m.Name), 15*time.Second)

	src.Kill()
	gone := time.Now()
	for time.Since(gone) < 8*time.Second {
		mark := l.Mark()
		if err := l.WaitBytes(mark, 1024, 3*time.Second); err != nil {
			t.Fatalf("%v after the source left: %v", time.Since(gone).Round(100*time.Millisecond), err)
		}
		time.Sleep(500 * time.Millisecond) // pacing the checks, not synchronising
	}
	// Meanwhile it heard the silence fallback.
	mark := l.Mark()
	if err := l.WaitBytes(mark, 16*1024, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if db, err := audiotest.MeanVolume(ctx, l.DataSince(mark)); err != nil || db > -80 {
		t.Fatalf("without a source the listener hears %.1f dB (%v), want silence", db, err)
	}
	audiotest.Source(t, clustertest.SourceURL(master.Addr(), m))
	back := time.Now()
	relay.WaitSource(15*time.Second, m.Name)
	// The listener hears the live tone again, not the silence fallback.
	var loud time.Duration
	testenv.Eventually(t, 15*time.Second, func() error {
		mark := l.Mark()
		if err := l.WaitBytes(mark, 16*1024, 3*time.Second); err != nil {
			return err
		}
		db, err := audiotest.MeanVolume(ctx, l.DataSince(mark))
		if err != nil {
			return err
		}
		if db < -50 {
			return fmt.Errorf("listener hears silence (%.1f dB)", db)
		}
		loud = time.Since(back)
		return nil
	})
	if err := l.Err(); err != nil {
		t.Fatalf("the listener was disconnected: %v", err)
	}
	t.Logf("source back: the relay node's listener hears it within %v; connected throughout, longest gap %v",
		loud.Round(time.Millisecond), l.MaxGap().Round(time.Millisecond))
}
