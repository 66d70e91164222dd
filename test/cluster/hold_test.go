//go:build cluster

package cluster

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"autoradio/internal/clustertest"
	"autoradio/internal/nscluster"
)

// TestHold is `make cluster`: it brings up a 3-node cluster with a mount
// /live.mp3 fed by a test tone, prints how to reach it, and keeps it
// running until Ctrl-C (SIGINT or SIGTERM), then tears everything down.
// It only runs when CLUSTER_HOLD=1.
func TestHold(t *testing.T) {
	if os.Getenv("CLUSTER_HOLD") != "1" {
		t.Skip("set CLUSTER_HOLD=1 (make cluster) to run a cluster by hand")
	}
	// Catch the signal before anything starts, so that the cleanups run.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	nscluster.Require(t)
	c := nscluster.New(t, clusterConfig())
	m := clustertest.NewMount(t, "/live.mp3")
	if err := c.Client.CreateMount(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	c.StartSource(t, m)
	master := c.Master(20 * time.Second)
	fmt.Printf(`
A 3-node autoradio cluster runs in network namespaces (session TTL %s):
`, sessionTTL)
	for _, h := range c.Hosts {
		fmt.Printf("  %s  namespace %s  address %s  (etcd :2379, Icecast :%d, DNS :53, HTTP :80)\n",
			h.Name, h.NS, h.IP, nscluster.IcecastPort)
	}
	fmt.Printf(`Master: %s. Mount /live.mp3 is fed by a test tone from the clients namespace %s,
whose resolver is the cluster's DNS. Try, as root:

  ip netns exec %[3]s dig +short stream.radio.test
  ip netns exec %[3]s curl -sL http://stream.radio.test/live.mp3 | head -c 100000 | ffprobe -hide_banner -
  ip netns exec %[3]s curl -s http://stream.radio.test/_status.json
  ip netns exec %[3]s etcdctl --endpoints %[4]s get --prefix /icecast/nodes/
  ip -n ar-h1 link set eth0 down      # partition node1 (up again: ... up)

Ctrl-C stops everything.
`, master.Name, nscluster.ClientsNS, nscluster.ClientsNS, c.EtcdURLs())
	<-sig
	fmt.Println("stopping the cluster")
}
