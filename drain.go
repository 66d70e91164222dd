package autoradio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ErrNodeNotFound is returned for a node that is neither live (it has no
// presence record) nor drained.
var ErrNodeNotFound = errors.New("no such node in the cluster")

// Drain is an operator's drain of a node, stored at DrainKey(Name): the
// node takes no new listeners, does not stand for master and runs no
// transcoder, while its current listeners stay.
type Drain struct {
	// Name is the node's, taken from the key.
	Name string `json:"-"`
	// Since is when the node was drained.
	Since time.Time `json:"since"`
}

// ValidateNodeName checks a node name given by a user: it becomes part of
// an etcd key and a DNS label.
func ValidateNodeName(name string) error {
	switch {
	case name == "":
		return errors.New("empty node name")
	case len(name) > 253:
		return fmt.Errorf("node name %.20q... is longer than 253 bytes", name)
	case strings.ContainsFunc(name, func(r rune) bool { return r == '/' || unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		return fmt.Errorf("bad node name %q: no '/', spaces or control characters", name)
	}
	return nil
}

// DecodeDrain parses a drain record; its name comes from the key.
func DecodeDrain(key string, value []byte) (*Drain, error) {
	name, ok := NodeNameFromDrainKey(key)
	if !ok {
		return nil, fmt.Errorf("drain record %s: not a drain key", key)
	}
	d := &Drain{Name: name}
	if len(value) > 0 {
		if err := json.Unmarshal(value, d); err != nil {
			return nil, fmt.Errorf("drain record %s: %w", key, err)
		}
	}
	return d, nil
}

// DrainNode drains a live node. It reports whether the node was drained
// already (the record is then left as it was), and fails with
// ErrNodeNotFound for a node that is neither live nor drained.
func (c *Client) DrainNode(ctx context.Context, name string, now time.Time) (already bool, err error) {
	if err := ValidateNodeName(name); err != nil {
		return false, err
	}
	data, err := json.Marshal(&Drain{Since: now.UTC()})
	if err != nil {
		return false, err
	}
	key := DrainKey(name)
	resp, err := c.etcd.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0),
			clientv3.Compare(clientv3.CreateRevision(NodeKey(name)), ">", 0)).
		Then(clientv3.OpPut(key, string(data))).
		Else(clientv3.OpGet(key, clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return false, fmt.Errorf("draining node %s: %w", name, err)
	}
	if resp.Succeeded {
		return false, nil
	}
	if resp.Responses[0].GetResponseRange().Count > 0 {
		return true, nil
	}
	return false, c.notFound(ctx, name)
}

// UndrainNode ends the drain of a node. It reports whether the node was
// drained, and fails with ErrNodeNotFound for a node that is neither live
// nor drained.
func (c *Client) UndrainNode(ctx context.Context, name string) (was bool, err error) {
	if err := ValidateNodeName(name); err != nil {
		return false, err
	}
	resp, err := c.etcd.Txn(ctx).
		Then(clientv3.OpDelete(DrainKey(name)), clientv3.OpGet(NodeKey(name), clientv3.WithCountOnly())).
		Commit()
	if err != nil {
		return false, fmt.Errorf("undraining node %s: %w", name, err)
	}
	if resp.Responses[0].GetResponseDeleteRange().Deleted > 0 {
		return true, nil
	}
	if resp.Responses[1].GetResponseRange().Count > 0 {
		return false, nil
	}
	return false, c.notFound(ctx, name)
}

// notFound is the error for a node that is not in the cluster, naming
// the live ones.
func (c *Client) notFound(ctx context.Context, name string) error {
	nodes, err := c.ListNodes(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", name, ErrNodeNotFound)
	}
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	live := "none"
	if len(names) > 0 {
		live = strings.Join(names, ", ")
	}
	return fmt.Errorf("%s: %w (live nodes: %s)", name, ErrNodeNotFound, live)
}

// DrainedNodes returns the drained nodes, sorted by name.
func (c *Client) DrainedNodes(ctx context.Context) ([]*Drain, error) {
	resp, err := c.etcd.Get(ctx, DrainPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("listing drained nodes: %w", err)
	}
	drains := DecodeRecords(resp.Kvs, DecodeDrain, c.skip("drain"))
	sort.Slice(drains, func(i, j int) bool { return drains[i].Name < drains[j].Name })
	return drains, nil
}
