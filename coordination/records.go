package coordination

import (
	"context"
	"log/slog"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"autoradio"
)

// WatchMounts calls fn with every valid mount record, sorted by path, and
// the revision they were read at: first, and after each change. Bad records
// are logged (once per version) and skipped. It otherwise behaves like
// WatchPrefix.
func WatchMounts(ctx context.Context, cli *clientv3.Client, fn func(mounts []*autoradio.Mount, rev int64), opts ...Option) error {
	dec := newDecoder("mount", autoradio.DecodeMount, opts)
	return WatchPrefix(ctx, cli, autoradio.MountsKeyPrefix(), func(s Snapshot) {
		fn(dec.decode(s), s.Revision)
	}, opts...)
}

// WatchNodes calls fn with the status of every live node, sorted by name:
// first, and after each change. Bad records are logged (once per version)
// and skipped. It otherwise behaves like WatchPrefix.
func WatchNodes(ctx context.Context, cli *clientv3.Client, fn func(nodes []*autoradio.NodeStatus), opts ...Option) error {
	dec := newDecoder("node", autoradio.DecodeNodeStatus, opts)
	return WatchPrefix(ctx, cli, autoradio.NodesPrefix, func(s Snapshot) {
		fn(dec.decode(s))
	}, opts...)
}

// WatchDrains calls fn with every node drained by an operator, sorted by
// name: first, and after each change. Bad records are logged (once per
// version) and skipped. It otherwise behaves like WatchPrefix.
func WatchDrains(ctx context.Context, cli *clientv3.Client, fn func(drains []*autoradio.Drain), opts ...Option) error {
	dec := newDecoder("drain", autoradio.DecodeDrain, opts)
	return WatchPrefix(ctx, cli, autoradio.DrainPrefix, func(s Snapshot) {
		fn(dec.decode(s))
	}, opts...)
}

// WatchMaster calls fn with the elected master: first, and after each
// change. It is nil while there is none, and while the leader's record is
// bad (logged and ignored). It otherwise behaves like ObserveLeader on
// autoradio.MasterElection.
func WatchMaster(ctx context.Context, cli *clientv3.Client, fn func(master *autoradio.MasterInfo), opts ...Option) error {
	log := newOptions("coordination/watch", opts).log
	return ObserveLeader(ctx, cli, autoradio.MasterElection, func(leader []byte) {
		fn(decodeMaster(leader, log))
	}, opts...)
}

// decodeMaster parses the leader's value; nil if there is no leader or
// its record is bad.
func decodeMaster(leader []byte, log *slog.Logger) *autoradio.MasterInfo {
	if leader == nil {
		return nil
	}
	m, err := autoradio.DecodeMasterInfo(leader)
	if err != nil {
		log.Warn("ignoring bad master record", "err", err)
		return nil
	}
	return m
}

// decoder turns a snapshot into records; it warns about a bad record once
// per version rather than at every snapshot.
type decoder[T any] struct {
	kind   string
	parse  func(key string, value []byte) (T, error)
	log    *slog.Logger
	warned map[string]int64 // key -> mod revision warned about
}

func newDecoder[T any](kind string, decode func(string, []byte) (T, error), opts []Option) *decoder[T] {
	o := newOptions("coordination/watch", opts)
	return &decoder[T]{kind: kind, parse: decode, log: o.log, warned: map[string]int64{}}
}

func (d *decoder[T]) decode(s Snapshot) []T {
	out := autoradio.DecodeRecords(s.Sorted(), d.parse, d.warn)
	for key := range d.warned {
		if _, ok := s.KVs[key]; !ok {
			delete(d.warned, key)
		}
	}
	return out
}

func (d *decoder[T]) warn(kv *mvccpb.KeyValue, err error) {
	key := string(kv.Key)
	if d.warned[key] == kv.ModRevision {
		return
	}
	d.warned[key] = kv.ModRevision
	d.log.Warn("skipping bad "+d.kind+" record", "key", key, "err", err)
}
