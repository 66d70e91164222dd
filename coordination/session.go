package coordination

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// SessionFunc does the work that needs a session. ctx ends when the session
// is lost (context.Cause(ctx) is then ErrSessionLost) or when RunSession's
// context ends; SessionFunc must return soon after.
type SessionFunc func(ctx context.Context, s *concurrency.Session) error

// RunSession keeps a session with the given TTL (whole seconds, at least 1)
// and runs fn with each new one. When a session is lost (lease expired or
// revoked, etcd unreachable for longer than the TTL, or fn returned an error
// wrapping ErrSessionLost) it logs and reports it
// (WithSessionLost), waits for fn to return and starts again with a new
// session after a back-off. When fn returns on its own, its error is logged,
// the session is closed and a new one started the same way. RunSession
// returns nil, after closing the current session (revoking its lease), only
// when ctx ends.
//
// Options: WithLogger, WithBackoff, WithAttemptTimeout, WithSessionLost.
func RunSession(ctx context.Context, cli *clientv3.Client, ttl time.Duration, fn SessionFunc, opts ...Option) error {
	o := newOptions("coordination/session", opts)
	b := o.backoff()
	var lost []clientv3.LeaseID
	for {
		start := time.Now()
		s, err := NewSession(ctx, cli, ttl, opts...)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			o.log.Warn("cannot start session", "err", err)
		} else {
			lost = revokeLost(ctx, o, cli, lost)
			if runOne(ctx, o, s, fn) {
				lost = append(lost, s.Lease())
			}
			b.Ran(time.Since(start))
		}
		if !b.Wait(ctx) {
			return nil
		}
	}
}

// revokeLost revokes the leases of lost sessions, now that etcd answers.
// etcd renews every lease when it restarts or elects a new leader, so a
// lease lost in an outage may still hold its keys (a presence, a place in
// an election) for a whole TTL after etcd is back: the new session would
// queue behind its own predecessor. It returns the leases still to revoke.
func revokeLost(ctx context.Context, o *options, cli *clientv3.Client, lost []clientv3.LeaseID) []clientv3.LeaseID {
	var left []clientv3.LeaseID
	for _, id := range lost {
		actx, cancel := o.attempt(ctx)
		_, err := cli.Revoke(actx, id)
		cancel()
		if err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			o.log.Info("revoking a lost lease", "lease", fmt.Sprintf("%x", id), "err", err)
			left = append(left, id)
		}
	}
	return left
}

// runOne runs fn with s and disposes of s. It reports whether the session
// was lost, leaving its lease to revoke later.
func runOne(ctx context.Context, o *options, s *concurrency.Session, fn SessionFunc) bool {
	o.log.Info("session started", "lease", fmt.Sprintf("%x", s.Lease()))
	fctx, stop := SessionContext(ctx, s)
	err := fn(fctx, s)
	lost := errors.Is(context.Cause(fctx), ErrSessionLost) || errors.Is(err, ErrSessionLost)
	stop()
	switch {
	case lost:
		err := fmt.Errorf("lease %x: %w", s.Lease(), ErrSessionLost)
		o.log.Warn("session lost", "err", err)
		if o.onSessionLost != nil {
			o.onSessionLost(err)
		}
		// The lease is gone or unreachable: revoking it now would only
		// wait; RunSession does it once etcd answers again.
		s.Orphan()
		return true
	default:
		if err != nil && ctx.Err() == nil {
			o.log.Warn("session work failed", "err", err)
		}
		closeSession(o, s)
		return false
	}
}

// closeSession revokes the session's lease, within the attempt timeout.
func closeSession(o *options, s *concurrency.Session) {
	s.Orphan()
	ctx, cancel := o.attempt(context.Background())
	defer cancel()
	if _, err := s.Client().Revoke(ctx, s.Lease()); err != nil {
		o.log.Info("revoking lease", "lease", fmt.Sprintf("%x", s.Lease()), "err", err)
	}
}

// NewSession grants a lease with the given TTL (rounded up to whole seconds,
// at least 1), within the attempt timeout, and keeps it alive in a
// concurrency.Session until the session is closed or the lease is lost. It
// fails rather than waits while etcd is unreachable.
//
// Options: WithAttemptTimeout.
func NewSession(ctx context.Context, cli *clientv3.Client, ttl time.Duration, opts ...Option) (*concurrency.Session, error) {
	o := newOptions("coordination/session", opts)
	secs := max(1, int(math.Ceil(ttl.Seconds())))
	actx, cancel := o.attempt(ctx)
	defer cancel()
	lease, err := cli.Grant(actx, int64(secs))
	if err != nil {
		return nil, fmt.Errorf("coordination: granting lease: %w", err)
	}
	s, err := concurrency.NewSession(cli, concurrency.WithLease(lease.ID), concurrency.WithTTL(secs))
	if err != nil {
		return nil, fmt.Errorf("coordination: keeping lease %x alive: %w", lease.ID, err)
	}
	return s, nil
}

// SessionContext returns a context derived from ctx that is also cancelled,
// with cause ErrSessionLost, when s ends. Call stop to release it.
func SessionContext(ctx context.Context, s *concurrency.Session) (_ context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	unhook := context.AfterFunc(s.Ctx(), func() { cancel(ErrSessionLost) })
	return ctx, func() {
		unhook()
		cancel(context.Canceled)
	}
}

// sessionErr marks an error caused by a lease that no longer exists as a
// session loss, which the session itself may not have noticed yet.
func sessionErr(err error) error {
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return fmt.Errorf("%w: %w", ErrSessionLost, err)
	}
	return err
}
