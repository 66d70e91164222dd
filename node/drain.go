package node

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"autoradio"
	"autoradio/coordination"
)

// A node drained by an operator (autoradio.DrainKey) or stopping hands its
// work over: it publishes that it is draining, so that the front-ends send
// it no new listeners, and it stands down from the master election and
// from the transcoders' elections, resigning those it leads so that
// another node takes over at once instead of after the session TTL. Its
// Icecast keeps serving the listeners it has. A drained node still stands
// when no other live node would (serving beats having no master); a
// stopping node never does.

// standReason says why the node does not stand for master or for the
// transcoders now, "" if it does; s.mu must be held.
func (s *state) standReason() string {
	switch {
	case s.stopping:
		return "stopping"
	case !s.drainOK:
		return notRead
	case s.drained && (!s.nodesOK || s.serving > 0):
		return "drained"
	}
	return ""
}

// notRead is why a node that has just started does not stand yet.
const notRead = "drain state not read yet"

// standDown returns why the node does not stand now ("" if it does) and a
// channel closed when that may have changed.
func (s *state) standDown() (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.standReason(), s.standMoved
}

func (s *state) setDrained(drained bool) {
	s.update(func() { s.drained, s.drainOK = drained, true })
}

// setStopping marks the node as stopping for good.
func (s *state) setStopping() { s.update(func() { s.stopping = true }) }

// draining reports whether the node should get no new listeners.
func (s *state) draining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drained || s.stopping
}

// servingOthers is how many other live nodes are not draining.
func (s *state) servingOthers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serving
}

// cluster returns the master and the live nodes' statuses as last read,
// and a channel closed at the next change.
func (s *state) cluster() (*autoradio.MasterInfo, []*autoradio.NodeStatus, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.master, s.nodes, s.moved
}

// standing runs fn while the node stands for the role named what: it
// cancels fn's context when the node stands down (fn resigns what it
// leads, as it does when its context ends), and runs fn again when it
// stands again. It returns fn's error, or nil once ctx ends.
func (n *Node) standing(ctx context.Context, what string, fn func(context.Context) error) error {
	for {
		reason, moved := n.state.standDown()
		if reason != "" {
			level := slog.LevelInfo
			if reason == notRead {
				level = slog.LevelDebug
			}
			n.log.Log(ctx, level, "not standing", "for", what, "cause", reason)
			select {
			case <-ctx.Done():
				return nil
			case <-moved:
				continue
			}
		}
		fctx, cancel := context.WithCancel(ctx)
		go func() { // ends with fctx, cancelled when fn returns
			select {
			case <-moved:
				cancel()
			case <-fctx.Done():
			}
		}()
		err := fn(fctx)
		cancel()
		if err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// watchDrain follows this node's drain key.
func (n *Node) watchDrain(ctx context.Context, opts ...coordination.Option) error {
	key := autoradio.DrainKey(n.cfg.Name)
	was := false
	return coordination.WatchPrefix(ctx, n.etcd, key, func(s coordination.Snapshot) {
		_, drained := s.KVs[key] // the prefix also holds longer names
		switch {
		case drained && !was:
			n.log.Info("drained by an operator: handing over the master role and transcoders")
		case !drained && was:
			n.log.Info("undrained by an operator")
		}
		was = drained
		n.state.setDrained(drained)
		n.status.refresh()
	}, opts...)
}

// handOver is what a stopping node does before it stops: it stands down,
// and if it was master it waits, up to DrainTimeout, until another node
// is master and serves the mounts (it has applied their config and has
// the sources that were live here) and no other node relays from this
// one any more; then it steps aside (see handover.go), so that the
// front-ends stream its mounts from other nodes before its Icecast stops.
func (n *Node) handOver(ctx context.Context) {
	if n.cfg.DrainTimeout < 0 {
		return
	}
	start := time.Now()
	wasMaster := n.state.role(n.cfg.Name).isMaster
	live := n.liveHere()
	others := n.state.servingOthers()
	n.state.setStopping()
	n.status.refresh()
	if !wasMaster {
		return
	}
	if others == 0 {
		n.log.Info("stopping: no other node to hand the master role over to")
		return
	}
	n.log.Info("stopping: handing the master role over", "timeout", n.cfg.DrainTimeout)
	ctx, cancel := context.WithTimeout(ctx, n.cfg.DrainTimeout)
	defer cancel()
	self := n.selfAddr()
	for {
		master, nodes, moved := n.state.cluster()
		err := successorReady(n.cfg.Name, master, nodes, n.state.mountNames(), live)
		if err == nil && relaysFrom(nodes, n.cfg.Name, self) {
			err = fmt.Errorf("other nodes still relay from this one")
		}
		if err == nil {
			n.log.Info("handed the master role over", "to", master.Name, "after", time.Since(start).Round(time.Millisecond))
			break
		}
		select {
		case <-ctx.Done():
			n.log.Warn("stopping before the master role was handed over", "err", err, "after", time.Since(start).Round(time.Millisecond))
			return
		case <-moved:
			continue
		}
	}
	// The front-ends stream this node's mounts from others before its
	// Icecast stops.
	n.stepAside(ctx, "stopping", true)
}

// successorReady tells whether another node than self is master and its
// Icecast serves every mount: it runs the master's config of each, and
// has a source for each of live (the mounts that had one on self).
func successorReady(self string, master *autoradio.MasterInfo, nodes []*autoradio.NodeStatus, mounts, live []string) error {
	if master == nil || master.Name == self {
		return fmt.Errorf("no other master elected yet")
	}
	i := slices.IndexFunc(nodes, func(st *autoradio.NodeStatus) bool { return st.Name == master.Name })
	if i < 0 || !nodes[i].IsMaster || !nodes[i].IcecastOK {
		return fmt.Errorf("%s does not report serving as master yet", master.Name)
	}
	st := nodes[i]
	for _, name := range mounts {
		ms, ok := st.Mount(name)
		switch {
		case !ok || !ms.Configured:
			return fmt.Errorf("%s has not applied the config of %s yet", master.Name, name)
		case slices.Contains(live, name) && !ms.SourceConnected:
			return fmt.Errorf("%s has no source for %s yet", master.Name, name)
		}
	}
	return nil
}
