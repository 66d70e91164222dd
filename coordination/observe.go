package coordination

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// ObserveLeader follows the election on prefix without taking part in it.
// It calls fn with the leader's value (raw JSON) first and then after every
// change; nil means that there is no leader. It survives broken watches and
// etcd restarts like WatchPrefix, keeping the last value known meanwhile. fn
// is called from one goroutine, in order. ObserveLeader returns nil when ctx
// ends.
//
// Options: WithLogger, WithBackoff, WithAttemptTimeout.
func ObserveLeader(ctx context.Context, cli *clientv3.Client, prefix string, fn func(leader []byte), opts ...Option) error {
	var last []byte
	first := true
	return WatchPrefix(ctx, cli, prefix+"/", func(s Snapshot) {
		cur := leaderValue(s)
		if !first && sameLeader(cur, last) {
			return
		}
		first, last = false, cur
		fn(cur)
	}, opts...)
}

// leaderValue is the value of the oldest candidate, the leader; nil if none.
func leaderValue(s Snapshot) []byte {
	var leader *mvccpb.KeyValue
	for _, kv := range s.KVs {
		if leader == nil || kv.CreateRevision < leader.CreateRevision {
			leader = kv
		}
	}
	if leader == nil {
		return nil
	}
	if leader.Value == nil {
		return []byte{}
	}
	return leader.Value
}

func sameLeader(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

// Leader returns the value of the election's leader, or ErrNoLeader.
func Leader(ctx context.Context, cli *clientv3.Client, prefix string) ([]byte, error) {
	resp, err := cli.Get(ctx, prefix+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return nil, fmt.Errorf("election %s: reading leader: %w", prefix, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("election %s: %w", prefix, ErrNoLeader)
	}
	return resp.Kvs[0].Value, nil
}
