package e2e

import (
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio"
	"autoradio/internal/audiotest"
	"autoradio/internal/clustertest"
	"autoradio/internal/testenv"
)

// A master that loses the election while it lives (here its election key
// is deleted; in a cluster, its session expired during an etcd outage or
// a partition) must let go of its sources: Icecast keeps them across the
// reload, and the relay of the mount from the new master cannot start
// while the old source holds it ("source already exists").
//
// The first source connects to the old master's Icecast directly, and
// once: through a front-end, a source that reconnects goes to the new
// master, while one that reconnects to the old master's Icecast could take
// the mount back in the moment before the relay config is applied.
func TestDemotedMasterDropsItsSources(t *testing.T) {
	ctx, etcd, c := setup(t, 90*time.Second)
	oldMaster, next := twoNodes(t, etcd, c)
	m := createMount(t, ctx, c, "/live.ogg")
	audiotest.SourceOnce(t, clustertest.SourceURL(oldMaster.Addr(), m))
	oldMaster.WaitSource(15*time.Second, m.Name)

	resp, err := c.Etcd().Get(ctx, autoradio.MasterElection+"/", clientv3.WithFirstCreate()...)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("reading the master's election key: %v", err)
	}
	if _, err := c.Etcd().Delete(ctx, string(resp.Kvs[0].Key)); err != nil {
		t.Fatal(err)
	}
	clustertest.Master(t, c, 10*time.Second, next)
	// The source follows the master, as it does through the front-end.
	audiotest.Source(t, clustertest.SourceURL(next.Addr(), m))
	next.WaitSource(20*time.Second, m.Name)
	// The demoted node relays the new master's source: the new master
	// counts its relay connection as a listener.
	testenv.Eventually(t, 20*time.Second, func() error {
		st, err := next.Status()
		if err != nil {
			return err
		}
		if ms, ok := st.Mount(m.Name); !ok || ms.Listeners < 1 {
			return fmt.Errorf("%s: no relay connected to %s: %+v", oldMaster.Name, next.Name, ms)
		}
		return nil
	})
	listenUntilAudio(t, ctx, oldMaster.URL(m.Name), 10*time.Second)
}
