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
	// DrainPrefix + node name marks a node drained by an operator. The
	// key is not bound to any lease: a drained node stays drained across
	// restarts until it is undrained.
	DrainPrefix = "/icecast/drain/"
	// ACMEPrefix holds what the front-ends share for the HTTPS
	// certificate they obtain by ACME (redirectord --acme): the keys
	// below. Whoever can read etcd can read the keys: etcd is the
	// cluster's trust boundary.
	ACMEPrefix = "/icecast/acme/"
	// ACMEAccountKey is the ACME account: JSON {"directory","key"}, the
	// key PEM-encoded.
	ACMEAccountKey = ACMEPrefix + "account"
	// ACMECertificateKey is the certificate every front-end serves: JSON
	// {"certificate","key"}, the chain and its private key PEM-encoded.
	ACMECertificateKey = ACMEPrefix + "certificate"
	// ACMEStatusKey is the outcome of the last order: JSON {"node",
	// "time","error"}, error empty after a success.
	ACMEStatusKey = ACMEPrefix + "status"
	// ACMEElection is the election of the one front-end that orders and
	// renews the certificate.
	ACMEElection = ACMEPrefix + "election"
	// ACMEChallengePrefix + "_acme-challenge.<name>/<id>" is a pending
	// DNS-01 challenge, the TXT value every front-end's DNS serves for
	// that name. The key is bound to the ordering front-end's lease, and
	// deleted when the challenge is over.
	ACMEChallengePrefix = ACMEPrefix + "challenges/"
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

// DrainKey returns the etcd key that marks a node drained.
func DrainKey(name string) string { return DrainPrefix + name }

// NodeNameFromDrainKey returns the node name of a drain key.
func NodeNameFromDrainKey(key string) (string, bool) {
	name, ok := strings.CutPrefix(key, DrainPrefix)
	return name, ok && name != ""
}
