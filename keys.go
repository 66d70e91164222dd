package autoradio

import "strings"

// The etcd key layout. Mount records live at MountsPrefix+path (the path
// starts with "/"), node statuses at NodesPrefix+name.
const (
	MountsPrefix = "/icecast/mounts"
	NodesPrefix  = "/icecast/nodes/"
	// MasterElection is the election prefix for the Icecast master. It is
	// given to concurrency.NewElection, which appends "/".
	MasterElection = "/icecast/election/master"
	// TranscoderElectionPrefix + mount path is the election of one
	// transcoding mount.
	TranscoderElectionPrefix = "/icecast/election/transcoder"
)

// MountKey returns the etcd key of a mount record.
func MountKey(path string) string { return MountsPrefix + path }

// MountsKeyPrefix is the prefix to list or watch every mount record.
func MountsKeyPrefix() string { return MountsPrefix + "/" }

// MountPathFromKey returns the mount path of a mount record key.
func MountPathFromKey(key string) (string, bool) {
	p, ok := strings.CutPrefix(key, MountsPrefix)
	return p, ok && strings.HasPrefix(p, "/")
}

// NodeKey returns the etcd key of a node's status.
func NodeKey(name string) string { return NodesPrefix + name }

// TranscoderElection returns the election prefix of a transcoding mount.
func TranscoderElection(path string) string { return TranscoderElectionPrefix + path }
