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
	kvs := s.Sorted()
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		v, err := d.parse(string(kv.Key), kv.Value)
		if err != nil {
			d.warn(kv, err)
			continue
		}
		out = append(out, v)
	}
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
