package coordination

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Election is one session's candidacy in the election on a prefix. Its keys
// are those of concurrency.Election (prefix + "/" + lease ID in hex), so
// both interoperate, and Observe or Leader can follow it.
//
// An Election belongs to one session: after the session is lost, make a new
// one with the next session. Campaign, Resign and Run are meant for one
// goroutine; Proclaim and IsLeader may be called from others.
//
// It campaigns itself instead of calling concurrency.Election.Campaign,
// whose clean-up after a cancelled campaign waits for etcd without a bound.
type Election struct {
	s      *concurrency.Session
	prefix string
	key    string
	o      *options

	mu     sync.Mutex
	rev    int64 // create revision of key while leading, else 0
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the leadership watch ends
}

// NewElection returns the candidacy of session s in the election on prefix
// (e.g. autoradio.MasterElection).
//
// Options: WithLogger, WithBackoff, WithAttemptTimeout.
func NewElection(s *concurrency.Session, prefix string, opts ...Option) *Election {
	return &Election{
		s:      s,
		prefix: prefix,
		key:    fmt.Sprintf("%s/%x", prefix, s.Lease()),
		o:      newOptions("coordination/election", opts),
	}
}

// Key is the candidate key of this session.
func (e *Election) Key() string { return e.key }

// Campaign puts value, encoded as JSON, as this session's candidacy and
// blocks until it leads. It returns a context that ends when the leadership
// does: context.Cause is then ErrSessionLost, ErrLeadershipLost (the key was
// deleted), or context.Canceled (Resign, or ctx ended). If the session ends
// first, Campaign fails with ErrSessionLost.
func (e *Election) Campaign(ctx context.Context, value any) (context.Context, error) {
	val, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("election %s: encoding value: %w", e.prefix, err)
	}
	if e.active() {
		return nil, fmt.Errorf("election %s: already leading", e.prefix)
	}
	cctx, stop := SessionContext(ctx, e.s)
	defer stop()
	rev, hdrRev, err := e.campaign(cctx, string(val))
	if err != nil {
		return nil, e.campaignFailed(ctx, cctx, err)
	}
	return e.lead(ctx, rev, hdrRev), nil
}

func (e *Election) campaignFailed(ctx, cctx context.Context, err error) error {
	if errors.Is(context.Cause(cctx), ErrSessionLost) || errors.Is(sessionErr(err), ErrSessionLost) {
		return fmt.Errorf("election %s: %w", e.prefix, ErrSessionLost)
	}
	if ctx.Err() != nil {
		// Like concurrency.Election: a cancelled campaign withdraws.
		e.withdraw(context.WithoutCancel(ctx))
		return fmt.Errorf("election %s: campaign: %w", e.prefix, ctx.Err())
	}
	return fmt.Errorf("election %s: campaign: %w", e.prefix, err)
}

// campaign puts the candidate key and waits for older candidates to go. It
// returns the key's create revision and the revision it led at.
func (e *Election) campaign(ctx context.Context, val string) (rev, hdrRev int64, err error) {
	cli := e.s.Client()
	resp, err := cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(e.key), "=", 0)).
		Then(clientv3.OpPut(e.key, val, clientv3.WithLease(e.s.Lease()))).
		Else(clientv3.OpGet(e.key)).
		Commit()
	if err != nil {
		return 0, 0, err
	}
	rev = resp.Header.Revision
	if !resp.Succeeded {
		// Campaigning again after an error: keep our place in the queue.
		kv := resp.Responses[0].GetResponseRange().Kvs[0]
		rev = kv.CreateRevision
		if string(kv.Value) != val {
			if err := e.proclaim(ctx, rev, val); err != nil {
				return 0, 0, err
			}
		}
	}
	hdrRev, err = waitPredecessors(ctx, cli, e.prefix+"/", rev-1)
	return rev, hdrRev, err
}

// waitPredecessors waits until no key under prefix has a create revision up
// to maxRev, and returns the revision at which that was true.
func waitPredecessors(ctx context.Context, cli *clientv3.Client, prefix string, maxRev int64) (int64, error) {
	opts := append(clientv3.WithLastCreate(), clientv3.WithMaxCreateRev(maxRev))
	for {
		resp, err := cli.Get(ctx, prefix, opts...)
		if err != nil {
			return 0, err
		}
		if len(resp.Kvs) == 0 {
			return resp.Header.Revision, nil
		}
		if _, err := watchDelete(ctx, cli, string(resp.Kvs[0].Key), resp.Header.Revision+1); err != nil {
			return 0, err
		}
	}
}

// watchDelete waits until key is deleted at or after revision from, and
// returns the revision of the deletion.
func watchDelete(ctx context.Context, cli *clientv3.Client, key string, from int64) (int64, error) {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for wr := range cli.Watch(wctx, key, clientv3.WithRev(from)) {
		if err := wr.Err(); err != nil {
			return 0, err
		}
		for _, ev := range wr.Events {
			if ev.Type == mvccpb.DELETE {
				return ev.Kv.ModRevision, nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("watch closed")
}

// lead records the leadership and starts watching it.
func (e *Election) lead(ctx context.Context, rev, hdrRev int64) context.Context {
	lctx, cancel := context.WithCancelCause(ctx)
	unhook := context.AfterFunc(e.s.Ctx(), func() { cancel(ErrSessionLost) })
	done := make(chan struct{})
	e.mu.Lock()
	e.rev, e.cancel, e.done = rev, cancel, done
	e.mu.Unlock()
	go func() {
		defer close(done)
		defer unhook()
		e.watchLeadership(lctx, cancel, rev, hdrRev+1)
	}()
	e.o.log.Info("elected", "election", e.prefix, "key", e.key)
	return lctx
}

// watchLeadership cancels ctx with ErrLeadershipLost when the key is
// deleted; when the watch breaks it checks the key and watches again.
func (e *Election) watchLeadership(ctx context.Context, cancel context.CancelCauseFunc, rev, from int64) {
	b := e.o.backoff()
	for {
		_, err := watchDelete(ctx, e.s.Client(), e.key, from)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			cancel(ErrLeadershipLost)
			return
		}
		e.o.log.Debug("leadership watch broken", "election", e.prefix, "err", err)
		if !b.Wait(ctx) {
			return
		}
		held, hdrRev, err := e.holds(ctx, rev)
		switch {
		case err != nil:
			e.o.log.Debug("checking leadership", "election", e.prefix, "err", err)
		case !held:
			cancel(ErrLeadershipLost)
			return
		default:
			from = hdrRev + 1
		}
	}
}

// holds tells whether the key still exists with create revision rev.
func (e *Election) holds(ctx context.Context, rev int64) (bool, int64, error) {
	actx, cancel := e.o.attempt(ctx)
	defer cancel()
	resp, err := e.s.Client().Get(actx, e.key)
	if err != nil {
		return false, 0, err
	}
	held := len(resp.Kvs) == 1 && resp.Kvs[0].CreateRevision == rev
	return held, resp.Header.Revision, nil
}

// active tells whether a leadership is under way, and forgets one that
// ended on its own.
func (e *Election) active() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done == nil {
		return false
	}
	select {
	case <-e.done:
		e.rev, e.cancel, e.done = 0, nil, nil
		return false
	default:
		return true
	}
}

// Proclaim replaces the value of the leader, which must be this session.
func (e *Election) Proclaim(ctx context.Context, value any) error {
	val, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("election %s: encoding value: %w", e.prefix, err)
	}
	e.mu.Lock()
	rev := e.rev
	e.mu.Unlock()
	if rev == 0 {
		return fmt.Errorf("election %s: proclaim: %w", e.prefix, ErrNotLeader)
	}
	if err := e.proclaim(ctx, rev, string(val)); err != nil {
		return fmt.Errorf("election %s: proclaim: %w", e.prefix, err)
	}
	return nil
}

// proclaim writes val to the key if it still has create revision rev.
func (e *Election) proclaim(ctx context.Context, rev int64, val string) error {
	resp, err := e.s.Client().Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(e.key), "=", rev)).
		Then(clientv3.OpPut(e.key, val, clientv3.WithLease(e.s.Lease()))).
		Commit()
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		return ErrNotLeader
	}
	return nil
}

// Resign ends the leadership (its context is cancelled) and deletes the
// candidate key so that another candidate can lead. It does nothing if this
// session does not lead.
func (e *Election) Resign(ctx context.Context) error {
	e.mu.Lock()
	rev, cancel, done := e.rev, e.cancel, e.done
	e.rev, e.cancel, e.done = 0, nil, nil
	e.mu.Unlock()
	if rev == 0 {
		return nil
	}
	cancel(context.Canceled)
	<-done
	return e.delete(ctx, rev)
}

// withdraw deletes the candidate key within the attempt timeout.
func (e *Election) withdraw(ctx context.Context) {
	actx, cancel := e.o.attempt(ctx)
	defer cancel()
	if err := e.delete(actx, 0); err != nil {
		e.o.log.Info("withdrawing candidacy", "election", e.prefix, "err", err)
	}
}

// delete removes the key if it has create revision rev (any when 0).
func (e *Election) delete(ctx context.Context, rev int64) error {
	cmp := clientv3.Compare(clientv3.LeaseValue(e.key), "=", e.s.Lease())
	if rev != 0 {
		cmp = clientv3.Compare(clientv3.CreateRevision(e.key), "=", rev)
	}
	if _, err := e.s.Client().Txn(ctx).If(cmp).Then(clientv3.OpDelete(e.key)).Commit(); err != nil {
		return fmt.Errorf("election %s: resign: %w", e.prefix, err)
	}
	return nil
}

// IsLeader asks etcd whether this session leads the election.
func (e *Election) IsLeader(ctx context.Context) (bool, error) {
	resp, err := e.s.Client().Get(ctx, e.prefix+"/", clientv3.WithFirstCreate()...)
	if err != nil {
		return false, fmt.Errorf("election %s: reading leader: %w", e.prefix, err)
	}
	return len(resp.Kvs) > 0 && string(resp.Kvs[0].Key) == e.key, nil
}

// Run campaigns with value and calls onLead with the leadership context
// each time this session leads; onLead should return when that context
// ends. If onLead returns while still leading, Run resigns, and in every
// case campaigns again after a back-off. Run returns an error wrapping
// ErrSessionLost when the session ends, and nil when ctx ends.
func (e *Election) Run(ctx context.Context, value any, onLead func(ctx context.Context)) error {
	b := e.o.backoff()
	for {
		lctx, err := e.Campaign(ctx, value)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrSessionLost):
			return err
		case err != nil:
			e.o.log.Warn("campaign failed", "election", e.prefix, "err", err)
		default:
			start := time.Now()
			if err := e.term(ctx, lctx, onLead); err != nil {
				return err
			}
			b.Ran(time.Since(start))
		}
		if !b.Wait(ctx) {
			return nil
		}
	}
}

// term runs onLead for one leadership and cleans up after it.
func (e *Election) term(ctx, lctx context.Context, onLead func(context.Context)) error {
	onLead(lctx)
	cause := context.Cause(lctx)
	switch {
	case errors.Is(cause, ErrSessionLost):
		e.forget()
		e.o.log.Warn("leadership lost", "election", e.prefix, "err", cause)
		return fmt.Errorf("election %s: %w", e.prefix, ErrSessionLost)
	case errors.Is(cause, ErrLeadershipLost):
		e.forget()
		e.o.log.Warn("leadership lost", "election", e.prefix, "err", cause)
	default:
		rctx, cancel := e.o.attempt(context.WithoutCancel(ctx))
		defer cancel()
		if err := e.Resign(rctx); err != nil {
			e.o.log.Warn("resigning", "election", e.prefix, "err", err)
		}
	}
	return nil
}

// forget drops a leadership that ended on its own.
func (e *Election) forget() {
	e.mu.Lock()
	done := e.done
	e.rev, e.cancel, e.done = 0, nil, nil
	e.mu.Unlock()
	if done != nil {
		<-done
	}
}
