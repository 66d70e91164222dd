package autoradio

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Errors returned by Client; match them with errors.Is.
var (
	ErrMountNotFound = errors.New("mount does not exist")
	ErrMountExists   = errors.New("mount already exists")
	ErrMountInUse    = errors.New("mount is in use by another mount")
	ErrNoMaster      = errors.New("no master elected")
)

// maxTxnOps stays below etcd's default --max-txn-ops (128).
const maxTxnOps = 100

// Client is a typed view of the cluster's configuration in etcd. Writes that
// depend on other records (a fallback or transcoding source that must exist,
// a mount that others refer to) are checked and applied in one transaction.
type Client struct {
	etcd *clientv3.Client
	log  *slog.Logger
}

// NewClient returns a Client over an etcd connection. Records that fail to
// parse are reported to log (slog.Default() when nil) and skipped.
func NewClient(etcd *clientv3.Client, log *slog.Logger) *Client {
	return &Client{etcd: etcd, log: cmp.Or(log, slog.Default())}
}

// Etcd returns the underlying etcd client.
func (c *Client) Etcd() *clientv3.Client { return c.etcd }

// GetMount returns one mount; ErrMountNotFound if it does not exist.
func (c *Client) GetMount(ctx context.Context, path string) (*Mount, error) {
	if err := ValidateMountPath(path); err != nil {
		return nil, err
	}
	resp, err := c.etcd.Get(ctx, MountKey(path))
	if err != nil {
		return nil, fmt.Errorf("reading mount %s: %w", path, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrMountNotFound)
	}
	return DecodeMount(string(resp.Kvs[0].Key), resp.Kvs[0].Value)
}

// ListMounts returns every valid mount, sorted by path.
func (c *Client) ListMounts(ctx context.Context) ([]*Mount, error) {
	mounts, _, err := c.listMounts(ctx)
	return mounts, err
}

func (c *Client) listMounts(ctx context.Context) ([]*Mount, int64, error) {
	resp, err := c.etcd.Get(ctx, MountsKeyPrefix(), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("listing mounts: %w", err)
	}
	return c.DecodeMounts(resp.Kvs), resp.Header.Revision, nil
}

// DecodeMounts parses mount records, logging and skipping bad ones, and
// returns them sorted by path.
func (c *Client) DecodeMounts(kvs []*mvccpb.KeyValue) []*Mount {
	mounts := DecodeRecords(kvs, DecodeMount, c.skip("mount"))
	sort.Slice(mounts, func(i, j int) bool { return mounts[i].Name < mounts[j].Name })
	return mounts
}

// skip returns a function that logs a bad record of kind as skipped.
func (c *Client) skip(kind string) func(*mvccpb.KeyValue, error) {
	return func(kv *mvccpb.KeyValue, err error) {
		c.log.Warn("skipping bad "+kind+" record", "key", string(kv.Key), "err", err)
	}
}

// CreateMount stores a new mount. It fails with ErrMountExists if the path is
// taken, and with a clear error if its fallback or transcoding source does not
// exist.
func (c *Client) CreateMount(ctx context.Context, m *Mount) error {
	if err := m.Validate(); err != nil {
		return err
	}
	cmps := append([]clientv3.Cmp{keyMissing(m.Name)}, referencesExist(m)...)
	return c.putChecked(ctx, m, cmps, func() error { return c.explainCreate(ctx, m) })
}

// updateMount replaces an existing mount whose record has not changed since
// modRev.
func (c *Client) updateMount(ctx context.Context, m *Mount, modRev int64) error {
	if err := m.Validate(); err != nil {
		return err
	}
	cmps := append([]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(MountKey(m.Name)), "=", modRev)}, referencesExist(m)...)
	return c.putChecked(ctx, m, cmps, func() error { return errConflict })
}

var errConflict = errors.New("concurrent change")

// EditMount applies fn to the current record of path and stores the result,
// retrying if the record changes meanwhile. fn must not change the name.
func (c *Client) EditMount(ctx context.Context, path string, fn func(*Mount) error) (*Mount, error) {
	if err := ValidateMountPath(path); err != nil {
		return nil, err
	}
	for {
		resp, err := c.etcd.Get(ctx, MountKey(path))
		if err != nil {
			return nil, fmt.Errorf("reading mount %s: %w", path, err)
		}
		if len(resp.Kvs) == 0 {
			return nil, fmt.Errorf("%s: %w", path, ErrMountNotFound)
		}
		kv := resp.Kvs[0]
		m, err := DecodeMount(string(kv.Key), kv.Value)
		if err != nil {
			return nil, err
		}
		if err := fn(m); err != nil {
			return nil, err
		}
		if m.Name != path {
			return nil, fmt.Errorf("editing %s: the mount path cannot be changed", path)
		}
		err = c.updateMount(ctx, m, kv.ModRevision)
		if errors.Is(err, errConflict) {
			if err := c.explainReferences(ctx, m); err != nil {
				return nil, err
			}
			continue
		}
		return m, err
	}
}

// DeleteMount removes a mount. It refuses with ErrMountInUse while another
// mount uses it as its fallback or transcoding source.
func (c *Client) DeleteMount(ctx context.Context, path string) error {
	if err := ValidateMountPath(path); err != nil {
		return err
	}
	for {
		mounts, rev, err := c.listMounts(ctx)
		if err != nil {
			return err
		}
		if err := checkUnused(mounts, path); err != nil {
			return err
		}
		// The delete applies only if no mount changed since the listing,
		// so a new reference cannot slip in between check and delete.
		resp, err := c.etcd.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(MountsKeyPrefix()), "<", rev+1).WithPrefix()).
			Then(clientv3.OpDelete(MountKey(path))).
			Commit()
		if err != nil {
			return fmt.Errorf("deleting mount %s: %w", path, err)
		}
		if !resp.Succeeded {
			continue
		}
		if resp.Responses[0].GetResponseDeleteRange().Deleted == 0 {
			return fmt.Errorf("%s: %w", path, ErrMountNotFound)
		}
		return nil
	}
}

// ListNodes returns the status of every live node, sorted by name.
func (c *Client) ListNodes(ctx context.Context) ([]*NodeStatus, error) {
	resp, err := c.etcd.Get(ctx, NodesPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	nodes := DecodeRecords(resp.Kvs, DecodeNodeStatus, c.skip("node"))
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	return nodes, nil
}

// Master returns the current master; ErrNoMaster when there is none.
func (c *Client) Master(ctx context.Context) (*MasterInfo, error) {
	resp, err := c.etcd.Get(ctx, MasterElection+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return nil, fmt.Errorf("reading master: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return nil, ErrNoMaster
	}
	return DecodeMasterInfo(resp.Kvs[0].Value)
}

func (c *Client) putChecked(ctx context.Context, m *Mount, cmps []clientv3.Cmp, explain func() error) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding mount %s: %w", m.Name, err)
	}
	resp, err := c.etcd.Txn(ctx).If(cmps...).Then(clientv3.OpPut(MountKey(m.Name), string(data))).Commit()
	if err != nil {
		return fmt.Errorf("storing mount %s: %w", m.Name, err)
	}
	if !resp.Succeeded {
		return explain()
	}
	return nil
}

// explainCreate tells why a create transaction failed.
func (c *Client) explainCreate(ctx context.Context, m *Mount) error {
	resp, err := c.etcd.Get(ctx, MountKey(m.Name), clientv3.WithCountOnly())
	if err != nil {
		return fmt.Errorf("creating mount %s: %w", m.Name, err)
	}
	if resp.Count > 0 {
		return fmt.Errorf("%s: %w", m.Name, ErrMountExists)
	}
	if err := c.explainReferences(ctx, m); err != nil {
		return err
	}
	return fmt.Errorf("creating mount %s: %w, try again", m.Name, errConflict)
}

// explainReferences returns an error naming a referenced mount that is missing.
func (c *Client) explainReferences(ctx context.Context, m *Mount) error {
	for _, ref := range references(m) {
		resp, err := c.etcd.Get(ctx, MountKey(ref), clientv3.WithCountOnly())
		if err != nil {
			return fmt.Errorf("checking mount %s: %w", ref, err)
		}
		if resp.Count == 0 {
			return fmt.Errorf("%s of %s: %s: %w", referenceRole(m, ref), m.Name, ref, ErrMountNotFound)
		}
	}
	return nil
}

// references lists the mounts that m needs to exist.
func references(m *Mount) []string {
	var refs []string
	if m.Fallback != "" {
		refs = append(refs, m.Fallback)
	}
	if m.Transcoding != nil && m.Transcoding.SourceName != m.Fallback {
		refs = append(refs, m.Transcoding.SourceName)
	}
	return refs
}

func referenceRole(m *Mount, ref string) string {
	if m.Fallback == ref {
		return "fallback"
	}
	return "transcoding source"
}

func referencesExist(m *Mount) []clientv3.Cmp {
	var cmps []clientv3.Cmp
	for _, ref := range references(m) {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(MountKey(ref)), ">", 0))
	}
	return cmps
}

func keyMissing(path string) clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(MountKey(path)), "=", 0)
}

func checkUnused(mounts []*Mount, path string) error {
	for _, m := range mounts {
		if m.Name == path {
			continue
		}
		for _, ref := range references(m) {
			if ref == path {
				return fmt.Errorf("%s is the %s of %s: %w", path, referenceRole(m, ref), m.Name, ErrMountInUse)
			}
		}
	}
	return nil
}
