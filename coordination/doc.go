// Package coordination holds the small etcd building blocks that radiod and
// redirectord are made of: a session loop that outlives etcd outages, a typed
// leader election, an observer of an election, lease-bound presence keys, a
// prefix watcher that reads at a revision and watches from the next one, and
// typed watchers of the mounts, the nodes and the master built on the last two.
//
// Every long-running function blocks until its context ends and returns nil
// then; none of them gives up because etcd is unreachable. They retry with a
// capped, jittered back-off and bound every single etcd call.
package coordination

import "errors"

// Errors reported by this package; match them with errors.Is. They are also
// the causes (context.Cause) of the contexts this package cancels.
var (
	// ErrSessionLost means the session's lease expired, was revoked, or
	// could not be kept alive (etcd unreachable for longer than its TTL).
	ErrSessionLost = errors.New("coordination: session lost")
	// ErrLeadershipLost means the leader key disappeared while the session
	// was still alive (deleted by someone else).
	ErrLeadershipLost = errors.New("coordination: leadership lost")
	// ErrNotLeader is returned by calls that need the caller to lead.
	ErrNotLeader = errors.New("coordination: not leader")
	// ErrNoLeader means that an election currently has no leader.
	ErrNoLeader = errors.New("coordination: no leader")
)
