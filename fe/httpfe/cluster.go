package httpfe

import "autoradio"

// Cluster is the front-end's view of the cluster, kept current by
// redirectord from etcd (mounts, node statuses, the master election) and the
// load balancer. Its methods are called on every request: they must be safe
// for concurrent use and must not block on the network.
type Cluster interface {
	// Mount returns the configured mount with this path.
	Mount(path string) (*autoradio.Mount, bool)
	// Mounts returns every configured mount, sorted by path.
	Mounts() []*autoradio.Mount
	// Nodes returns the status of every live node, sorted by name.
	Nodes() []*autoradio.NodeStatus
	// Master returns the current Icecast master, if one is elected.
	Master() (*autoradio.MasterInfo, bool)
	// Pick chooses, with the load balancer, a node that can serve the
	// mount to one more listener; false when none can.
	Pick(mount string) (*autoradio.NodeStatus, bool)
}
