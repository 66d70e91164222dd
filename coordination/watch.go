package coordination

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Snapshot is the content of a key prefix at one revision. It is never
// changed once delivered: each delivery has its own map. Receivers must not
// change it either.
type Snapshot struct {
	// Revision is the etcd revision the snapshot is consistent with.
	Revision int64
	// KVs maps each key under the prefix to its record.
	KVs map[string]*mvccpb.KeyValue
}

// Sorted returns the records ordered by key.
func (s Snapshot) Sorted() []*mvccpb.KeyValue {
	kvs := slices.Collect(maps.Values(s.KVs))
	slices.SortFunc(kvs, func(a, b *mvccpb.KeyValue) int { return bytes.Compare(a.Key, b.Key) })
	return kvs
}

// errWatchClosed is reported when a watch channel closes by itself.
var errWatchClosed = errors.New("watch channel closed")

// WatchPrefix mirrors the keys under prefix into fn: it reads them at a
// revision, calls fn with that snapshot, then watches from the next revision
// and calls fn with a new snapshot after each watch response that changed
// something (one call per response, not per event). On compaction, a broken
// watch or an unreachable etcd it logs, backs off and reads again. fn is
// called from one goroutine, in order; while it runs, events wait. WatchPrefix
// returns nil when ctx ends.
//
// Options: WithLogger, WithBackoff, WithAttemptTimeout.
func WatchPrefix(ctx context.Context, cli *clientv3.Client, prefix string, fn func(Snapshot), opts ...Option) error {
	o := newOptions("coordination/watch", opts)
	b := o.backoff()
	for {
		start := time.Now()
		snap, err := readPrefix(ctx, o, cli, prefix)
		if err == nil {
			fn(snap)
			err = followPrefix(ctx, cli, prefix, snap, fn)
			b.Ran(time.Since(start))
		}
		if ctx.Err() != nil {
			return nil
		}
		o.log.Warn("watching prefix; reading it again", "prefix", prefix, "err", err)
		if !b.Wait(ctx) {
			return nil
		}
	}
}

// readPrefix reads every key under prefix, within the attempt timeout.
func readPrefix(ctx context.Context, o *options, cli *clientv3.Client, prefix string) (Snapshot, error) {
	actx, cancel := o.attempt(ctx)
	defer cancel()
	resp, err := cli.Get(actx, prefix, clientv3.WithPrefix())
	if err != nil {
		return Snapshot{}, fmt.Errorf("reading %s: %w", prefix, err)
	}
	kvs := make(map[string]*mvccpb.KeyValue, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		kvs[string(kv.Key)] = kv
	}
	return Snapshot{Revision: resp.Header.Revision, KVs: kvs}, nil
}

// followPrefix watches prefix from snap's next revision and delivers each
// change, until the watch fails.
func followPrefix(ctx context.Context, cli *clientv3.Client, prefix string, snap Snapshot, fn func(Snapshot)) error {
	// Without a leader a member would keep the watch open and silent.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(snap.Revision+1))
	for wr := range wch {
		if wr.CompactRevision != 0 {
			return fmt.Errorf("watching %s: compacted at revision %d", prefix, wr.CompactRevision)
		}
		if err := wr.Err(); err != nil {
			return fmt.Errorf("watching %s: %w", prefix, err)
		}
		if len(wr.Events) == 0 {
			continue // progress notification
		}
		snap = apply(snap, wr.Events)
		fn(snap)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("watching %s: %w", prefix, errWatchClosed)
}

// apply returns a new snapshot: snap with events applied. A response holds
// every event of the revisions it covers, so the result is consistent at
// the last event's revision (the header's may be later while catching up).
func apply(snap Snapshot, events []*clientv3.Event) Snapshot {
	kvs := make(map[string]*mvccpb.KeyValue, len(snap.KVs)+len(events))
	maps.Copy(kvs, snap.KVs)
	for _, ev := range events {
		switch ev.Type {
		case mvccpb.PUT:
			kvs[string(ev.Kv.Key)] = ev.Kv
		case mvccpb.DELETE:
			delete(kvs, string(ev.Kv.Key))
		}
	}
	return Snapshot{Revision: events[len(events)-1].Kv.ModRevision, KVs: kvs}
}
