package autoradio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// maxTxnBytes bounds the records written in one transaction, well below
// etcd's default --max-request-bytes (1.5 MiB). Validate bounds every
// field, so that a mount record is a few KiB at most.
const maxTxnBytes = 512 << 10

// rollbackTimeout bounds the undoing of a restore that failed half-way,
// which runs even when the restore's own context has ended.
const rollbackTimeout = 10 * time.Second

// RestoreMounts creates or replaces every mount in ms, as from a backup.
// References must resolve within ms or to mounts already stored.
//
// It is all or nothing: everything that can fail is checked before the
// first write, and a backup that fits in one etcd transaction is written
// in one. A larger one is written in several; if one of them fails (etcd
// itself failed), the ones before it are undone, mount by mount unless
// the mount was changed meanwhile by someone else.
func (c *Client) RestoreMounts(ctx context.Context, ms []*Mount) error {
	resp, err := c.etcd.Get(ctx, MountsKeyPrefix(), clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("restoring mounts: reading the stored ones: %w", err)
	}
	batches, err := c.restoreBatches(resp.Kvs, ms)
	if err != nil {
		return err
	}
	previous := make(map[string][]byte, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		previous[string(kv.Key)] = kv.Value
	}
	var done []restoreBatch
	for _, b := range batches {
		r, err := c.etcd.Txn(ctx).Then(b.ops...).Commit()
		if err != nil {
			return c.undoRestore(ctx, done, previous, len(ms), err)
		}
		b.rev = r.Header.Revision
		done = append(done, b)
	}
	return nil
}

// restoreBatch is one transaction of a restore: the keys it writes and, once
// written, the revision that wrote them.
type restoreBatch struct {
	keys []string
	ops  []clientv3.Op
	rev  int64
}

// restoreBatches checks a backup against what is stored (kvs) and splits it
// into transactions within etcd's limits.
func (c *Client) restoreBatches(kvs []*mvccpb.KeyValue, ms []*Mount) ([]restoreBatch, error) {
	known := map[string]bool{}
	for _, m := range c.DecodeMounts(kvs) {
		known[m.Name] = true
	}
	seen := map[string]bool{}
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("mount %s: %w", m.Name, err)
		}
		if seen[m.Name] {
			return nil, fmt.Errorf("mount %s appears twice", m.Name)
		}
		seen[m.Name], known[m.Name] = true, true
	}
	var batches []restoreBatch
	var cur restoreBatch
	size := 0
	for _, m := range ms {
		for _, ref := range references(m) {
			if !known[ref] {
				return nil, fmt.Errorf("mount %s refers to %s, which is neither in the backup nor stored", m.Name, ref)
			}
		}
		data, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("encoding mount %s: %w", m.Name, err)
		}
		key := MountKey(m.Name)
		if len(cur.ops) == maxTxnOps || size+len(key)+len(data) > maxTxnBytes {
			batches, cur, size = append(batches, cur), restoreBatch{}, 0
		}
		cur.keys = append(cur.keys, key)
		cur.ops = append(cur.ops, clientv3.OpPut(key, string(data)))
		size += len(key) + len(data)
	}
	if len(cur.ops) > 0 {
		batches = append(batches, cur)
	}
	return batches, nil
}

// undoRestore puts back what the written batches replaced, after the
// restore of n mounts failed with cause, and says how that went.
func (c *Client) undoRestore(ctx context.Context, done []restoreBatch, previous map[string][]byte, n int, cause error) error {
	if len(done) == 0 {
		return fmt.Errorf("restoring mounts: nothing written: %w", cause)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	var errs []error
	kept := 0
	for _, b := range done {
		for _, key := range b.keys {
			undo := clientv3.OpDelete(key)
			if v, ok := previous[key]; ok {
				undo = clientv3.OpPut(key, string(v))
			}
			// Only what the restore wrote, and nobody changed since,
			// is undone.
			r, err := c.etcd.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", b.rev)).Then(undo).Commit()
			switch {
			case err != nil:
				errs = append(errs, err)
			case !r.Succeeded:
				kept++
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("restoring mounts failed (%w) and so did undoing the part written: the stored mounts are a mix of the backup and what was there, run the restore again: %w", cause, err)
	}
	if kept > 0 {
		return fmt.Errorf("restoring mounts failed, and what it wrote was undone but for %d mounts that were changed meanwhile by someone else: %w", kept, cause)
	}
	return fmt.Errorf("restoring %d mounts: nothing written (a part was written and undone): %w", n, cause)
}
