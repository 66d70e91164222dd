package node_test

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/v3/concurrency"

	"autoradio"
	"autoradio/coordination"
	"autoradio/internal/audiotest"
	"autoradio/internal/clustertest"
)

// silentMaster accepts connections on ip and never answers them, as a
// master cut off the network mid-request does; accepted receives one
// value per connection. Connections are closed when the test ends.
func silentMaster(t *testing.T, ip string) (port int, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	port, _ = strconv.Atoi(p)
	return port, ch
}

// Icecast 2.4 deadlocks its relay (slave) thread when a reload replaces
// a relay that is still connecting and whose connection then fails: the
// slave thread waits for the relay thread while holding the relay lock,
// which the failing relay thread takes before it ends. From then on
// Icecast never starts a relay again, nor rereads its config. A master
// cut off the network mid-request, then replaced by a new one, is
// exactly that. radiod notices a relay that stays down while the master
// has the source, and restarts Icecast.
func TestWedgedIcecastRelaysAreRestarted(t *testing.T) {
	ctx, etcd, c := setup(t, 150*time.Second)
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
	// The relays wait for the silent master's answer (Icecast's header
	// timeout, 15 s) when the master changes.
	if err := silent.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	next, relay := clustertest.Master(t, c, 10*time.Second, n1, n2), n2
	if next == n2 {
		relay = n1
	}
	// Both Icecasts wedge: the new master still holds the mount for
	// its old relay and refuses the source until radiod restarts it
	// (icecast.MaxReloadDelay after the first reload it ignored).
	start := time.Now()
	audiotest.Source(t, clustertest.SourceURL(next.Addr(), m))
	next.WaitSource(60*time.Second, m.Name)
	t.Logf("master live %v after it was elected", time.Since(start).Round(100*time.Millisecond))
	relay.WaitSource(60*time.Second, m.Name)
	t.Logf("relay live %v after it was elected", time.Since(start).Round(100*time.Millisecond))
	listenUntilAudio(t, ctx, relay.URL(m.Name), 10*time.Second)
	for _, n := range []*clustertest.Radiod{next, relay} {
		if !strings.Contains(n.Proc.Output(), "restarting Icecast") {
			t.Errorf("%s: radiod did not restart its wedged Icecast", n.Name)
		}
	}
}
