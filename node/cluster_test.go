package node_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"autoradio"
	"autoradio/internal/audiotest"
	"autoradio/internal/etcdtest"
	"autoradio/internal/testenv"
)

// twoNodes starts radiod on 127.0.0.11 and 127.0.0.12 (same port) and
// returns them as (master, relay) once a master is elected.
func twoNodes(t *testing.T, etcd *etcdtest.Server, c *autoradio.Client) (*radiod, *radiod) {
	t.Helper()
	port := freePort(t, "127.0.0.11", "127.0.0.12")
	n1 := startRadiod(t, etcd.URL(), "n1", "127.0.0.11", port)
	m := master(t, c, 10*time.Second, n1)
	n2 := startRadiod(t, etcd.URL(), "n2", "127.0.0.12", port)
	testenv.Eventually(t, 10*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		nodes, err := c.ListNodes(ctx)
		if err != nil {
			return err
		}
		up := 0
		for _, n := range nodes {
			if n.IcecastOK {
				up++
			}
		}
		if up < 2 {
			return fmt.Errorf("%d of 2 nodes up", up)
		}
		return nil
	})
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
	requireRadiod(t)
	ctx := testContext(t, 90*time.Second)
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	master, relay := twoNodes(t, etcd, c)

	m := newMount(t, "/live.ogg")
	created := time.Now()
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	audiotest.Source(t, sourceURL(master, m))
	listenUntilAudio(t, ctx, relay.url(m.Name), 10*time.Second)
	t.Logf("create-mount to first audio on the relay node: %v", time.Since(created).Round(time.Millisecond))
	decodeCapture(t, ctx, relay.url(m.Name), 4*time.Second)

	// The master does not count the relay's connection as a listener.
	testenv.Eventually(t, 5*time.Second, func() error {
		nodes, err := c.ListNodes(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if ms, ok := n.Mount(m.Name); n.Name == master.name && (!ok || ms.Listeners != 0 || !ms.SourceConnected) {
				return fmt.Errorf("master reports %+v", ms)
			}
		}
		return nil
	})
}

func TestMasterFailover(t *testing.T) {
	requireRadiod(t)
	ctx := testContext(t, 120*time.Second)
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	oldMaster, survivor := twoNodes(t, etcd, c)
	m := newMount(t, "/live.ogg")
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	src := audiotest.Source(t, sourceURL(oldMaster, m))
	l := listenUntilAudio(t, ctx, survivor.url(m.Name), 15*time.Second)

	// The master's host dies: radiod, its Icecast and the source on it.
	oldMaster.proc.Kill()
	oldMaster.killIcecast()
	src.Kill()
	oldMaster.proc = nil
	killed := time.Now()

	master(t, c, sessionTTL+2*time.Second, survivor)
	elected := time.Since(killed)
	// The source reconnects, now to the new master (as it would through
	// the front-end or DNS).
	audiotest.Source(t, sourceURL(survivor, m))
	survivor.waitSource(15*time.Second, m.Name)
	live := time.Since(killed)
	mark := l.Mark()
	if err := l.WaitBytes(mark, 32*1024, 10*time.Second); err != nil {
		t.Fatalf("listener on %s after failover: %v", survivor.name, err)
	}
	t.Logf("failover: new master after %v, source live on it after %v; listener stayed connected: %v, longest gap between reads: %v",
		elected.Round(time.Millisecond), live.Round(time.Millisecond), l.Err() == nil, l.MaxGap().Round(time.Millisecond))
	if err := l.Err(); err != nil {
		t.Errorf("the listener attached to %s was disconnected: %v", survivor.name, err)
	}
	decodeCapture(t, ctx, survivor.url(m.Name), 3*time.Second)
}

func TestEtcdOutage(t *testing.T) {
	requireRadiod(t)
	ctx := testContext(t, 150*time.Second)
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	master1, relay := twoNodes(t, etcd, c)
	m := newMount(t, "/live.ogg")
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	audiotest.Source(t, sourceURL(master1, m))
	l := listenUntilAudio(t, ctx, relay.url(m.Name), 15*time.Second)

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
	master2 := settledMaster(t, c, back, 4*sessionTTL, master1, relay)
	t.Logf("master %s settled %v after etcd returned", master2.name, time.Since(back).Round(time.Millisecond))
	m2 := newMount(t, "/after.ogg")
	if err := c.CreateMount(ctx, m2); err != nil {
		t.Fatal(err)
	}
	created := time.Now()
	testenv.Eventually(t, 2*time.Second, func() error {
		code, err := sourceStatus(master2.addr(), m2.Name, m2.Username, m2.Password)
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("status %d", code)
		}
		return err
	})
	t.Logf("mount created after the outage accepted on %s in %v", master2.name, time.Since(created).Round(time.Millisecond))
}

// settledMaster waits for an elected master that has published, since
// after, a status saying it is master, and returns it.
func settledMaster(t *testing.T, c *autoradio.Client, after time.Time, timeout time.Duration, nodes ...*radiod) *radiod {
	t.Helper()
	var found *radiod
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
		for _, st := range statuses {
			if st.Name == m.Name && st.IsMaster && st.UpdatedAt.After(after) {
				for _, n := range nodes {
					if n.name == m.Name {
						found = n
						return nil
					}
				}
			}
		}
		return fmt.Errorf("master %s has not published a fresh status", m.Name)
	})
	return found
}

func TestRadiodRestartReplacesItsOldIcecast(t *testing.T) {
	requireRadiod(t)
	ctx := testContext(t, 60*time.Second)
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	n1 := startRadiod(t, etcd.URL(), "n1", "127.0.0.11", freePort(t, "127.0.0.11"))
	master(t, c, 10*time.Second, n1)
	m := newMount(t, "/live.ogg")
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() error { _, err := n1.status(); return err })
	old := n1.icecastPID()
	n1.proc.Kill() // radiod only: its Icecast keeps running and holds the port
	if old == 0 || n1.icecastPID() != old {
		t.Fatalf("icecast %d did not outlive radiod", old)
	}
	n1.start()
	testenv.Eventually(t, 15*time.Second, func() error {
		if pid := n1.icecastPID(); pid == 0 || pid == old {
			return fmt.Errorf("old icecast %d still there", old)
		}
		_, err := n1.status()
		return err
	})
	audiotest.Source(t, sourceURL(n1, m))
	n1.waitSource(10*time.Second, m.Name)
	decodeCapture(t, ctx, n1.url(m.Name), 3*time.Second)
}

func TestSourceLossKeepsRelayListeners(t *testing.T) {
	requireRadiod(t)
	ctx := testContext(t, 90*time.Second)
	etcd := etcdtest.Start(t)
	c := autoradio.NewClient(etcd.Client(), nil)
	master, relay := twoNodes(t, etcd, c)
	// MP3 decodes from any point of a stream: what the listener gets can
	// be checked for silence (the fallback) or tone (live).
	m := newMount(t, "/live.mp3")
	if err := c.CreateMount(ctx, m); err != nil {
		t.Fatal(err)
	}
	src := audiotest.Source(t, sourceURL(master, m))
	l := listenUntilAudio(t, ctx, relay.url(m.Name), 15*time.Second)

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
	audiotest.Source(t, sourceURL(master, m))
	back := time.Now()
	relay.waitSource(15*time.Second, m.Name)
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
