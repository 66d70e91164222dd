package e2e

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/client/v3/concurrency"

	"autoradio"
	"autoradio/coordination"
	"autoradio/internal/audiotest"
	"autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// silentMaster accepts connections on ip and never answers them, as a
// master cut off the network mid-request does; accepted receives one
// value per connection.
func silentMaster(t *testing.T, ip string) (port int, accepted <-chan struct{}) {
	t.Helper()
	addr, accepted := testenv.TCPServer(t, ip, nil)
	_, p, _ := net.SplitHostPort(addr)
	port, _ = strconv.Atoi(p)
	return port, accepted
}

// A master cut off the network mid-request, then replaced: the relays
// waiting for its answer are closed by radiod's relay proxy and reconnect
// to the new master, without a reload. Icecast 2.4 would deadlock if a
// reload replaced them (see package relayproxy); the new master, which
// drops its relays, must not deadlock either.
func TestSilentMasterIsReplacedWithoutWedgingIcecast(t *testing.T) {
	ctx, etcd, c := setup(t, 120*time.Second)
	m := createMount(t, ctx, c, "/live.ogg")

	// The first master answers no request.
	silentPort, accepted := silentMaster(t, "127.0.0.13")
	sess, err := concurrency.NewSession(etcd.Client(), concurrency.WithTTL(int(clustertest.SessionTTL.Seconds())))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	silent := coordination.NewElection(sess, autoradio.MasterElection)
	if _, err := silent.Campaign(ctx, autoradio.MasterInfo{Name: "silent", IPs: []string{"127.0.0.13"}, IcecastPort: silentPort}); err != nil {
		t.Fatal(err)
	}

	// Both nodes relay from it; either is the next master.
	port := clustertest.FreePort(t, "127.0.0.11", "127.0.0.12")
	n1 := clustertest.StartRadiod(t, etcd.URL(), "n1", "127.0.0.11", port)
	n2 := clustertest.StartRadiod(t, etcd.URL(), "n2", "127.0.0.12", port)
	for range 2 {
		select {
		case <-accepted:
		case <-time.After(20 * time.Second):
			t.Fatal("the nodes' relays did not connect to the silent master")
		}
	}
	if err := silent.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	next, relay := clustertest.Master(t, c, 10*time.Second, n1, n2), n2
	if next == n2 {
		relay = n1
	}
	start := time.Now()
	audiotest.Source(t, clustertest.SourceURL(next.Addr(), m))
	next.WaitSource(20*time.Second, m.Name)
	t.Logf("master live %v after it was elected", time.Since(start).Round(100*time.Millisecond))
	relay.WaitSource(20*time.Second, m.Name)
	t.Logf("relay live %v after it was elected", time.Since(start).Round(100*time.Millisecond))
	listenUntilAudio(t, ctx, relay.URL(m.Name), 10*time.Second)
	for _, n := range []*clustertest.Radiod{next, relay} {
		if strings.Contains(n.Proc.Output(), stuckMessage) {
			t.Errorf("%s: radiod had to restart a wedged Icecast", n.Name)
		}
	}
}

// stuckMessage starts radiod's log line when it restarts a wedged Icecast.
const stuckMessage = "restarting Icecast: it stopped applying its config"

// When a reload does replace a relay that is waiting for an answer that
// never comes (here the master's relay of an upstream, removed with its
// mount), Icecast deadlocks: it never rereads its config again. radiod
// notices that its config is not applied and restarts Icecast.
func TestWedgedIcecastIsRestarted(t *testing.T) {
	ctx, etcd, c := setup(t, 150*time.Second)
	monitor := "127.0.0.11:" + strconv.Itoa(clustertest.FreePort(t, "127.0.0.11"))
	n1 := clustertest.StartRadiod(t, etcd.URL(), "n1", "127.0.0.11", clustertest.FreePort(t, "127.0.0.11"), "--monitor-addr", monitor)
	clustertest.Master(t, c, 10*time.Second, n1)
	upPort, accepted := silentMaster(t, "127.0.0.13")
	up := clustertest.NewMount(t, "/upstream.ogg")
	up.RelayURL = "http://" + net.JoinHostPort("127.0.0.13", strconv.Itoa(upPort)) + "/live.ogg"
	if err := c.CreateMount(ctx, up); err != nil {
		t.Fatal(err)
	}
	select {
	case <-accepted:
	case <-time.After(20 * time.Second):
		t.Fatal("Icecast did not connect to the upstream")
	}
	if err := c.DeleteMount(ctx, up.Name); err != nil {
		t.Fatal(err)
	}
	// The relay gives up after Icecast's header timeout, and the
	// deadlock begins; radiod waits icecast.MaxReloadDelay.
	testenv.Eventually(t, 60*time.Second, func() error {
		if !strings.Contains(n1.Proc.Output(), stuckMessage) {
			return errors.New("radiod did not restart its wedged Icecast")
		}
		return nil
	})
	// The restarted Icecast applies changes again.
	m := createMount(t, ctx, c, "/live.ogg")
	audiotest.Source(t, clustertest.SourceURL(n1.Addr(), m))
	n1.WaitSource(20*time.Second, m.Name)
	metrics, err := scrape("http://" + monitor + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if n := metrics["autoradio_icecast_stuck_restarts_total"]; n != 1 {
		t.Errorf("autoradio_icecast_stuck_restarts_total is %v, want 1", n)
	}
}
