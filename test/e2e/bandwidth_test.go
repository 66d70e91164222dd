package e2e

import (
	"fmt"
	"testing"
	"time"

	"autoradio/internal/audiotest"
	ct "autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// TestBandwidthOfLoopbackListeners has three listeners play a 128 kbit/s
// mount from a node whose address is a loopback one, its bandwidth
// measured where radiod measures it by default (no --interface): the
// node must report at least what they receive. It read 0 when only the
// default route's interface was measured.
func TestBandwidthOfLoopbackListeners(t *testing.T) {
	ctx, etcd, c := setup(t, 90*time.Second)
	const ip = "127.0.0.103"
	n1 := ct.StartRadiod(t, etcd.URL(), "n1", ip, ct.FreePort(t, ip), "--interface=")
	ct.Master(t, c, 10*time.Second, n1)
	m := createMount(t, ctx, c, "/bw.mp3")
	audiotest.Source(t, ct.SourceURL(n1.Addr(), m))
	n1.WaitSource(15*time.Second, m.Name)
	for range 3 {
		l := audiotest.Listen(ctx, n1.URL(m.Name))
		defer l.Stop()
	}
	const want = 3 * 128e3 // bits/s
	testenv.Eventually(t, 30*time.Second, func() error {
		nodes, err := c.ListNodes(ctx)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			if n.Name == "n1" && n.Listeners == 3 && n.BandwidthBps >= want {
				return nil
			}
			if n.Name == "n1" {
				return fmt.Errorf("n1 publishes %d listeners and %.0f bits/s, want 3 and at least %.0f", n.Listeners, n.BandwidthBps, want)
			}
		}
		return fmt.Errorf("n1 publishes no status")
	})
}
