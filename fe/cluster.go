package fe

import (
	"context"
	"log/slog"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
	"golang.org/x/sync/errgroup"

	"autoradio"
	"autoradio/coordination"
	"autoradio/fe/lb"
)

// Cluster is the front-end's view of the cluster, kept up to date from
// etcd. While etcd is unreachable it keeps serving the last view: nodes do
// not vanish because etcd does. It implements httpfe.Cluster.
type Cluster struct {
	etcd *clientv3.Client
	lb   *lb.Balancer
	log  *slog.Logger

	mu     sync.RWMutex
	mounts map[string]*autoradio.Mount
	list   []*autoradio.Mount
	nodes  []*autoradio.NodeStatus
	master *autoradio.MasterInfo
}

// NewCluster returns a view that feeds the balancer with node statuses.
func NewCluster(etcd *clientv3.Client, bal *lb.Balancer, log *slog.Logger) *Cluster {
	return &Cluster{etcd: etcd, lb: bal, log: log, mounts: map[string]*autoradio.Mount{}}
}

// Run watches mounts, nodes, drained nodes and the master until ctx ends.
func (c *Cluster) Run(ctx context.Context) error {
	opts := []coordination.Option{coordination.WithLogger(c.log)}
	// A watcher that stops is logged; the others go on.
	var g errgroup.Group
	watch := func(fn func() error) {
		g.Go(func() error {
			if err := fn(); err != nil && ctx.Err() == nil {
				c.log.Error("cluster watcher stopped", "err", err)
			}
			return nil
		})
	}
	watch(func() error { return coordination.WatchMounts(ctx, c.etcd, c.setMounts, opts...) })
	watch(func() error { return coordination.WatchNodes(ctx, c.etcd, c.setNodes, opts...) })
	watch(func() error { return coordination.WatchMaster(ctx, c.etcd, c.setMaster, opts...) })
	watch(func() error { return coordination.WatchDrains(ctx, c.etcd, c.setDrained, opts...) })
	return g.Wait()
}

func (c *Cluster) setMounts(list []*autoradio.Mount, _ int64) {
	byName := make(map[string]*autoradio.Mount, len(list))
	for _, m := range list {
		byName[m.Name] = m
	}
	c.mu.Lock()
	c.mounts, c.list = byName, list
	c.mu.Unlock()
}

func (c *Cluster) setNodes(nodes []*autoradio.NodeStatus) {
	c.lb.Update(nodes)
	c.mu.Lock()
	c.nodes = nodes
	c.mu.Unlock()
}

// setDrained keeps drained nodes out of the balancer's choices, and so out
// of redirects and DNS answers, as soon as etcd says so: it does not wait
// for the node to report it.
func (c *Cluster) setDrained(drains []*autoradio.Drain) {
	names := make([]string, len(drains))
	for i, d := range drains {
		names[i] = d.Name
	}
	c.lb.SetDrained(names)
}

func (c *Cluster) setMaster(m *autoradio.MasterInfo) {
	c.mu.Lock()
	c.master = m
	c.mu.Unlock()
}

// Mount returns a mount by path.
func (c *Cluster) Mount(path string) (*autoradio.Mount, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.mounts[path]
	return m, ok
}

// Mounts returns every mount, sorted by path.
func (c *Cluster) Mounts() []*autoradio.Mount {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.list
}

// Nodes returns the live nodes, sorted by name.
func (c *Cluster) Nodes() []*autoradio.NodeStatus {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.nodes
}

// Master returns the elected master.
func (c *Cluster) Master() (*autoradio.MasterInfo, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.master, c.master != nil
}

// Pick chooses a node to serve a listener of mount.
func (c *Cluster) Pick(mount string) (*autoradio.NodeStatus, bool) { return c.lb.Pick(mount) }
