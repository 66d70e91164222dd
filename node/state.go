package node

import (
	"slices"
	"sync"
	"time"

	"autoradio"
)

// state is the node's view of the cluster, fed by the watchers and the
// election, and what the Icecast config is rendered from. The render loop
// is woken through changed whenever it moves.
type state struct {
	mu       sync.Mutex
	mounts   []*autoradio.Mount
	mountsOK bool // the mounts have been read from etcd at least once
	master   *autoradio.MasterInfo
	isMaster bool
	// others is how many other nodes are alive (presence records).
	others int
	// serving is how many of them are not draining.
	serving int
	// nodes are the live nodes' statuses, self included; nodesOK once
	// they have been read.
	nodes   []*autoradio.NodeStatus
	nodesOK bool
	// drained: an operator drained this node; drainOK once its drain key
	// has been read. stopping: the node is shutting down.
	drained, drainOK, stopping bool
	// changed wakes the render loop. moved is closed, and replaced, at
	// every change, nodes' statuses included; standMoved only when
	// standDown may have changed its answer.
	changed, moved, standMoved chan struct{}
	// observe is given the mounts and the master after every change, in
	// order (it is called with mu held, so it must not block).
	observe func([]*autoradio.Mount, *autoradio.MasterInfo)

	// asides counts the handover steps under way for which the node
	// steps aside (handover.go).
	asides int

	// What the debug page shows.
	lastEtcdErr string
	lastEtcdAt  time.Time
}

func newState(observe func([]*autoradio.Mount, *autoradio.MasterInfo)) *state {
	return &state{
		changed: make(chan struct{}, 1), moved: make(chan struct{}), standMoved: make(chan struct{}),
		observe: observe,
	}
}

func (s *state) update(fn func()) {
	s.mu.Lock()
	s.broadcast(fn)
	if s.observe != nil {
		s.observe(s.mounts, s.master)
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// broadcast applies fn and wakes those waiting on moved, and on
// standMoved if standDown's answer changed; s.mu must be held.
func (s *state) broadcast(fn func()) {
	before := s.standReason()
	fn()
	close(s.moved)
	s.moved = make(chan struct{})
	if s.standReason() != before {
		close(s.standMoved)
		s.standMoved = make(chan struct{})
	}
}

func (s *state) setMounts(mounts []*autoradio.Mount) {
	s.update(func() { s.mounts, s.mountsOK = mounts, true })
}

func (s *state) setMaster(m *autoradio.MasterInfo) { s.update(func() { s.master = m }) }

func (s *state) setLeader(lead bool) { s.update(func() { s.isMaster = lead }) }

// setNodes counts the live nodes other than self. Statuses change every
// few seconds, their number seldom: only a new number wakes the render
// loop.
func (s *state) setNodes(self string, nodes []*autoradio.NodeStatus) {
	others, serving := 0, 0
	for _, st := range nodes {
		if st.Name != self {
			others++
			if !st.Draining {
				serving++
			}
		}
	}
	set := func() { s.others, s.serving, s.nodes, s.nodesOK = others, serving, nodes, true }
	s.mu.Lock()
	same := s.others == others
	if same {
		s.broadcast(set)
	}
	s.mu.Unlock()
	if !same {
		s.update(set)
	}
}

func (s *state) etcdError(err error) {
	s.mu.Lock()
	s.lastEtcdErr, s.lastEtcdAt = err.Error(), time.Now()
	s.mu.Unlock()
}

// lastEtcdError is the last error of the etcd session, and when it
// happened; "" if none.
func (s *state) lastEtcdError() (string, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastEtcdErr, s.lastEtcdAt
}

// role is a consistent copy of what the config depends on.
type role struct {
	mounts   []*autoradio.Mount
	mountsOK bool
	isMaster bool
	// master is the node to relay from; nil when this node is master or
	// when no other master is known.
	master *autoradio.MasterInfo
	// others is how many other nodes are alive: on the master, each
	// relays every mount.
	others int
}

func (s *state) role(self string) role {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := role{mounts: s.mounts, mountsOK: s.mountsOK, isMaster: s.isMaster, others: s.others}
	// The observer may still show this node as master after it lost the
	// election: only the election decides that this node is master.
	if !s.isMaster && s.master != nil && s.master.Name != self {
		r.master = s.master
	}
	return r
}

func (s *state) mountNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, len(s.mounts))
	for i, m := range s.mounts {
		names[i] = m.Name
	}
	return names
}

// lowBurstMounts are the mounts read by transcoders: they get no burst so
// that transcoders run close to live.
func lowBurstMounts(mounts []*autoradio.Mount) []string {
	var names []string
	for _, m := range mounts {
		if m.Transcoding != nil && !slices.Contains(names, m.Transcoding.SourceName) {
			names = append(names, m.Transcoding.SourceName)
		}
	}
	slices.Sort(names)
	return names
}

// stepAside adds delta to the handover steps for which the node steps
// aside.
func (s *state) stepAside(delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asides += delta
}

// steppingAside reports whether the node steps aside for a handover.
func (s *state) steppingAside() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asides > 0
}
