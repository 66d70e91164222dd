package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"autoradio"
	"autoradio/node/atomicfile"
)

// secrets are the node's own Icecast passwords. They never leave the node:
// not in etcd, not in logs. They are kept in a root-only file so that a
// restarted radiod can reload an Icecast that still runs with them.
type secrets struct {
	AdminPassword string `json:"admin_password"`
	RelayPassword string `json:"relay_password"`
}

func loadSecrets(path string) (*secrets, error) {
	var s secrets
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("node: secrets %s: %w", path, err)
		}
		if s.AdminPassword != "" && s.RelayPassword != "" {
			return &s, nil
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("node: secrets: %w", err)
	}
	if s.AdminPassword, err = autoradio.RandomToken(15); err != nil {
		return nil, err
	}
	if s.RelayPassword, err = autoradio.RandomToken(15); err != nil {
		return nil, err
	}
	data, _ = json.Marshal(&s)
	if _, err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("node: secrets: %w", err)
	}
	return &s, nil
}
