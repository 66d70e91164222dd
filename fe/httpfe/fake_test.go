package httpfe

import (
	"sort"
	"sync"

	"autoradio"
)

// fakeCluster is a fixed Cluster for tests: Pick returns the first node
// whose Icecast is up.
type fakeCluster struct {
	mu     sync.Mutex
	mounts map[string]*autoradio.Mount
	nodes  []*autoradio.NodeStatus
	master *autoradio.MasterInfo
}

func newFakeCluster(mounts ...*autoradio.Mount) *fakeCluster {
	c := &fakeCluster{mounts: map[string]*autoradio.Mount{}}
	for _, m := range mounts {
		c.mounts[m.Name] = m
	}
	return c
}

func (c *fakeCluster) Mount(path string) (*autoradio.Mount, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.mounts[path]
	return m, ok
}

func (c *fakeCluster) Mounts() []*autoradio.Mount {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ms []*autoradio.Mount
	for _, m := range c.mounts {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms
}

func (c *fakeCluster) Nodes() []*autoradio.NodeStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes
}

func (c *fakeCluster) Master() (*autoradio.MasterInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.master, c.master != nil
}

func (c *fakeCluster) Pick(string) (*autoradio.NodeStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if n.IcecastOK {
			return n, true
		}
	}
	return nil, false
}

func (c *fakeCluster) setNodes(nodes ...*autoradio.NodeStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes = nodes
}

func (c *fakeCluster) setMaster(m *autoradio.MasterInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.master = m
}

func (c *fakeCluster) addMount(m *autoradio.Mount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mounts[m.Name] = m
}
