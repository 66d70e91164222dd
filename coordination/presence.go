package coordination

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Presence is a value stored under a key bound to a session's lease, so that
// it disappears when the session's owner dies. A Presence belongs to one
// session: after a session is lost, Register again with the new one.
type Presence struct {
	s   *concurrency.Session
	key string

	mu   sync.Mutex
	last []byte // what is stored, nil before the first write
}

// NewPresence returns the presence of session s under key, without writing
// anything yet.
func NewPresence(s *concurrency.Session, key string) *Presence {
	return &Presence{s: s, key: key}
}

// Register stores value, encoded as JSON, under key, bound to s's lease.
func Register(ctx context.Context, s *concurrency.Session, key string, value any) (*Presence, error) {
	p := NewPresence(s, key)
	if _, err := p.Update(ctx, value); err != nil {
		return nil, err
	}
	return p, nil
}

// Key is the key the value is stored under.
func (p *Presence) Key() string { return p.key }

// Update stores value, encoded as JSON, if it differs from what this
// Presence last stored; it tells whether it wrote. If the session's lease is
// gone, the error wraps ErrSessionLost.
func (p *Presence) Update(ctx context.Context, value any) (bool, error) {
	data, err := json.Marshal(value)
	if err != nil {
		return false, fmt.Errorf("presence %s: encoding value: %w", p.key, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last != nil && bytes.Equal(p.last, data) {
		return false, nil
	}
	if _, err := p.s.Client().Put(ctx, p.key, string(data), clientv3.WithLease(p.s.Lease())); err != nil {
		return false, fmt.Errorf("presence %s: writing: %w", p.key, sessionErr(err))
	}
	p.last = data
	return true, nil
}

// Remove deletes the key now rather than when the lease ends. It only
// deletes the key while it is still bound to this session's lease.
func (p *Presence) Remove(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.s.Client().Txn(ctx).
		If(clientv3.Compare(clientv3.LeaseValue(p.key), "=", p.s.Lease())).
		Then(clientv3.OpDelete(p.key)).
		Commit()
	if err != nil {
		return fmt.Errorf("presence %s: removing: %w", p.key, err)
	}
	p.last = nil
	return nil
}
