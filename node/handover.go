package node

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"autoradio"
	"autoradio/node/icecast"
)

// A master handover that listeners do not hear. Each Icecast that must
// change where a mount comes from (the new master: from its relay of the
// old master to the source; the old master: from the source to its relay
// of the new one; every other node: from the old master to the new) plays
// the mount's fallback for a moment while it does. So each node first
// steps aside (it publishes autoradio.NodeStatus.StepAside, and the
// front-ends stream its mounts from another node that serves them live),
// then changes, then steps back once its Icecast serves the mounts live
// again. And it changes only once another node serves live what it
// would lose: the old master keeps the sources the front-ends still feed
// it, and a relay keeps its connections to the old master, until the new
// master serves the mounts and, for the old master, no other node relays
// from it any more.

// Timing of a handover.
const (
	// stepAsideDelay is how long a node announces that it steps aside
	// before it changes its Icecast: time for its status to be published,
	// for the front-ends to see it (an etcd watch) and to move their
	// feeds (they check 4 times a second, then open the other node's
	// stream). 0.5-0.8 s were measured on a 2-core machine.
	stepAsideDelay = 2 * time.Second
	// settleTimeout bounds how long a node steps aside after its change,
	// while it waits for its Icecast to serve the mounts again.
	settleTimeout = 10 * time.Second
	// handoverWait bounds how long the old master, and the relays of the
	// old master, wait for the new master to serve the mounts before they
	// let go anyway.
	handoverWait = 15 * time.Second
	// settlePoll is how often a node that steps aside looks at its
	// Icecast's last status.
	settlePoll = 100 * time.Millisecond
)

// handovers runs the node's handover steps that outlive a render, one
// at a time: a new one cancels the one under way.
type handovers struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs fn in a goroutine, after the one under way (cancelled) has
// returned.
func (h *handovers) start(ctx context.Context, fn func(context.Context)) {
	h.stop()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	h.mu.Lock()
	h.cancel, h.done = cancel, done
	h.mu.Unlock()
	go func() {
		defer close(done)
		fn(ctx)
	}()
}

// stop cancels the step under way and waits for it to return.
func (h *handovers) stop() {
	h.mu.Lock()
	cancel, done := h.cancel, h.done
	h.cancel, h.done = nil, nil
	h.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// stepAside makes the node publish that it steps aside, and waits
// stepAsideDelay when wait (another node serves live, so the front-ends
// can move to it). The returned function steps back.
func (n *Node) stepAside(ctx context.Context, why string, wait bool) (stepBack func()) {
	n.state.stepAside(+1)
	n.status.refresh()
	n.log.Info("stepping aside", "for", why, "wait", wait)
	if wait {
		sleep(ctx, stepAsideDelay)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			n.state.stepAside(-1)
			n.status.refresh()
			n.log.Info("stepping back", "after", why)
		})
	}
}

// settle waits until the node has settled (see settled), or
// settleTimeout passed.
func (n *Node) settle(ctx context.Context, since time.Time, mounts []string, master bool) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	t := time.NewTicker(settlePoll)
	defer t.Stop()
	for {
		if n.settled(since, mounts, master) {
			return
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				n.log.Warn("Icecast does not serve every mount live after the handover", "mounts", mounts, "waited", settleTimeout)
			}
			return
		case <-t.C:
		}
	}
}

// settled tells whether a status of the local Icecast read after since
// shows a source on each of mounts in the given role; on a relay node,
// also whether that many relay connections were made since, and the
// master serves the mounts (a relay of a master without the source
// plays the master's fallback).
func (n *Node) settled(since time.Time, mounts []string, master bool) bool {
	st := n.icecast.Status()
	if st == nil || !st.At.After(since) || !n.servesHere(st, mounts, master) {
		return false
	}
	if master {
		return true
	}
	m, nodes, _ := n.state.cluster()
	return n.relays.Established(since) >= len(mounts) && m != nil && serves(nodes, m.Name, mounts)
}

// relaysLost is the relay proxy's Lost: it wakes the render loop, which
// calls stepAsideForLostRelays.
func (n *Node) relaysLost() {
	select {
	case n.lost <- struct{}{}:
	default:
	}
}

// stepAsideForLostRelays steps aside when the master's Icecast ended
// relay connections (it died, or restarts): the local Icecast plays the
// fallback until its relays reconnect, to the new master when it died,
// and the front-ends stream the mounts from elsewhere meanwhile (another
// node, or the source's own front-end). It steps back once the relays
// serve the mounts again, under a master that serves them.
func (n *Node) stepAsideForLostRelays(ctx context.Context) {
	if n.state.role(n.cfg.Name).isMaster || !n.lostStep.CompareAndSwap(false, true) {
		return
	}
	live := n.liveHere()
	stepBack := n.stepAside(ctx, "relays lost", false)
	since := time.Now()
	n.handovers.start(ctx, func(ctx context.Context) {
		defer n.lostStep.Store(false)
		defer stepBack()
		n.tellFrontendRelaysLost(ctx)
		n.settle(ctx, since, live, false)
	})
}

// tellFrontendRelaysLost tells the node's front-end at once that the
// relays were lost (autoradio.RelaysLostPath): the step aside reaches it
// through etcd, which may have lost its leader with the master's host.
func (n *Node) tellFrontendRelaysLost(ctx context.Context) {
	if n.cfg.FrontendURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.FrontendURL+autoradio.RelaysLostPath, nil)
	if err != nil {
		n.log.Warn("telling the front-end that the relays were lost", "err", err)
		return
	}
	resp, err := n.status.http.Do(req)
	if err != nil {
		n.log.Warn("telling the front-end that the relays were lost", "err", err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		n.log.Warn("telling the front-end that the relays were lost", "status", resp.Status)
	}
}

// servesHere tells whether st shows a source on each of mounts, with the
// config of the given role applied.
func (n *Node) servesHere(st *icecast.Status, mounts []string, master bool) bool {
	for _, ms := range st.MountStatuses(mounts) {
		if !ms.SourceConnected || !n.icecast.Applied(ms.Name, master) {
			return false
		}
	}
	return true
}

// liveHere lists the mounts with a source on the local Icecast, as last
// measured.
func (n *Node) liveHere() []string {
	var live []string
	if st := n.status.Current(); st != nil {
		for _, m := range st.Mounts {
			if m.SourceConnected {
				live = append(live, m.Name)
			}
		}
	}
	return live
}

// selfAddr is the address other nodes relay from when this node is master.
func (n *Node) selfAddr() string {
	return (&autoradio.MasterInfo{Name: n.cfg.Name, IPs: n.cfg.IPs, IcecastPort: n.cfg.IcecastPort}).IcecastAddr()
}

// serves tells whether node name is live, master, not stepping aside,
// and has a source on each of mounts.
func serves(nodes []*autoradio.NodeStatus, name string, mounts []string) bool {
	i := slices.IndexFunc(nodes, func(st *autoradio.NodeStatus) bool { return st.Name == name })
	if i < 0 || !nodes[i].IsMaster || !nodes[i].IcecastOK || nodes[i].StepAside {
		return false
	}
	for _, m := range mounts {
		if ms, ok := nodes[i].Mount(m); !ok || !ms.SourceConnected {
			return false
		}
	}
	return true
}

// alive tells whether node name has a presence.
func alive(nodes []*autoradio.NodeStatus, name string) bool {
	return slices.ContainsFunc(nodes, func(st *autoradio.NodeStatus) bool { return st.Name == name })
}

// relaysFrom tells whether a node other than self relays from addr.
func relaysFrom(nodes []*autoradio.NodeStatus, self, addr string) bool {
	return slices.ContainsFunc(nodes, func(st *autoradio.NodeStatus) bool {
		return st.Name != self && slices.Contains(st.RelaysFrom, addr)
	})
}

// othersLive tells whether another node serves some mount live and is
// not stepping aside: somewhere for the front-ends to go.
func othersLive(nodes []*autoradio.NodeStatus, self string) bool {
	return slices.ContainsFunc(nodes, func(st *autoradio.NodeStatus) bool {
		if st.Name == self || !st.IcecastOK || st.StepAside {
			return false
		}
		return slices.ContainsFunc(st.Mounts, func(m autoradio.MountStatus) bool { return m.SourceConnected })
	})
}

// waitCluster waits until ok holds for the cluster as last read, or ctx
// ends; it reports whether ok held.
func (n *Node) waitCluster(ctx context.Context, ok func(master *autoradio.MasterInfo, nodes []*autoradio.NodeStatus) bool) bool {
	for {
		master, nodes, moved := n.state.cluster()
		if ok(master, nodes) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-moved:
		}
	}
}

// takeOver is the new master's part, before it drops its relays and loads
// the master's config: it steps aside, waiting for the front-ends to move
// when the previous master still serves (a handover), and steps back once
// its Icecast has the sources that its relays had.
func (n *Node) takeOver(ctx context.Context) {
	prev := n.relayMaster
	n.relayMaster = nil
	live := n.liveHere()
	_, nodes, _ := n.state.cluster()
	planned := prev != nil && alive(nodes, prev.Name) && othersLive(nodes, n.cfg.Name)
	if !planned {
		n.log.Debug("taking the master role over without waiting: no previous master still serving",
			"previous", prev != nil, "previous_alive", prev != nil && alive(nodes, prev.Name), "others_live", othersLive(nodes, n.cfg.Name))
	}
	stepBack := n.stepAside(ctx, "taking the master role over", planned)
	since := time.Now()
	n.handovers.start(ctx, func(ctx context.Context) {
		defer stepBack()
		n.settle(ctx, since, live, true)
	})
}

// switchRelays points new relay connections at master. The connections
// to the previous master stay until master serves what this node serves
// live, or the previous master is gone; then the node steps aside, closes
// them, and steps back once its relays serve the mounts again.
func (n *Node) switchRelays(ctx context.Context, master *autoradio.MasterInfo) {
	prev := n.relayMaster
	n.relayMaster = master
	n.relays.SetUpstream(master.IcecastAddr())
	if prev != nil && prev.Name == master.Name && prev.IcecastAddr() == master.IcecastAddr() {
		return
	}
	if n.relays.Stale() == 0 {
		return
	}
	live := n.liveHere()
	n.handovers.start(ctx, func(ctx context.Context) {
		wctx, cancel := context.WithTimeout(ctx, handoverWait)
		defer cancel()
		gone := false
		n.waitCluster(wctx, func(_ *autoradio.MasterInfo, nodes []*autoradio.NodeStatus) bool {
			gone = prev == nil || !alive(nodes, prev.Name)
			return gone || serves(nodes, master.Name, live)
		})
		if ctx.Err() != nil {
			return
		}
		_, nodes, _ := n.state.cluster()
		stepBack := n.stepAside(ctx, "moving the relays to the new master", !gone && othersLive(nodes, n.cfg.Name))
		defer stepBack()
		since := time.Now()
		if c := n.relays.CloseStale(); c > 0 {
			n.log.Info("moved the relays to the new master", "master", master.Name, "closed", c)
		}
		n.settle(ctx, since, live, false)
	})
}

// handDown is the old master's part, once it relays from the new one: it
// keeps the sources still connected to it (the front-ends feed it until
// the new master has them) until the new master serves those mounts and
// no other node relays from it, then steps aside and disconnects them
// (see killDemoted), and steps back once its relays serve the mounts.
func (n *Node) handDown(ctx context.Context, r role) {
	live := n.liveHere()
	self := n.selfAddr()
	n.handovers.start(ctx, func(ctx context.Context) {
		wctx, cancel := context.WithTimeout(ctx, handoverWait)
		handed := n.waitCluster(wctx, func(master *autoradio.MasterInfo, nodes []*autoradio.NodeStatus) bool {
			return master != nil && master.Name != n.cfg.Name &&
				serves(nodes, master.Name, live) && !relaysFrom(nodes, n.cfg.Name, self)
		})
		cancel()
		if ctx.Err() != nil {
			return
		}
		if !handed {
			n.log.Warn("the new master does not serve the mounts yet: disconnecting the sources anyway", "waited", handoverWait)
		}
		_, nodes, _ := n.state.cluster()
		stepBack := n.stepAside(ctx, "handing the master role down", othersLive(nodes, n.cfg.Name))
		defer stepBack()
		since := time.Now()
		n.killDemoted(ctx, r)
		n.settle(ctx, since, live, false)
	})
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
