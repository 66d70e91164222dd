package autoradio

import (
	"encoding/json"
	"fmt"
)

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
