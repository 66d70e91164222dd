package autoradio

import (
	"encoding/json"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// DecodeRecords parses etcd records with decode, in the order given, and
// returns those that parse. Each record that does not is passed to skip
// with the error, and left out.
func DecodeRecords[T any](kvs []*mvccpb.KeyValue, decode func(key string, value []byte) (T, error), skip func(kv *mvccpb.KeyValue, err error)) []T {
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		v, err := decode(string(kv.Key), kv.Value)
		if err != nil {
			skip(kv, err)
			continue
		}
		out = append(out, v)
	}
	return out
}

// DecodeMount parses a mount record stored under key and checks that it is
// valid and stored under its own name.
func DecodeMount(key string, value []byte) (*Mount, error) {
	var m Mount
	if err := json.Unmarshal(value, &m); err != nil {
		return nil, fmt.Errorf("mount record %s: %w", key, err)
	}
	if p, _ := MountPathFromKey(key); p != m.Name {
		return nil, fmt.Errorf("mount record %s: name %q does not match its key", key, m.Name)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("mount record %s: %w", key, err)
	}
	return &m, nil
}

// DecodeNodeStatus parses a node status record.
func DecodeNodeStatus(key string, value []byte) (*NodeStatus, error) {
	var n NodeStatus
	if err := json.Unmarshal(value, &n); err != nil {
		return nil, fmt.Errorf("node record %s: %w", key, err)
	}
	if err := n.Validate(); err != nil {
		return nil, fmt.Errorf("node record %s: %w", key, err)
	}
	return &n, nil
}

// DecodeMasterInfo parses the value of the master election's leader.
func DecodeMasterInfo(value []byte) (*MasterInfo, error) {
	var m MasterInfo
	if err := json.Unmarshal(value, &m); err != nil {
		return nil, fmt.Errorf("master info: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("master info: %w", err)
	}
	return &m, nil
}
