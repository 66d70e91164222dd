package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"golang.org/x/sync/errgroup"

	"autoradio"
	"autoradio/coordination"
	"autoradio/node/bandwidth"
	"autoradio/node/icecast"
	"autoradio/node/relayproxy"
	"autoradio/node/transcode"
)

// Node is radiod: one per server.
type Node struct {
	cfg     Config
	etcd    *clientv3.Client
	log     *slog.Logger
	state   *state
	icecast *icecast.Server
	// relays carries the local Icecast's relays to the master.
	relays  *relayproxy.Proxy
	status  *publisher
	metrics *metrics
	// transcoders runs the liquidsoap transcoders this node wins.
	transcoders *transcode.Manager

	served map[string]bool // mounts in the last rendered config; render loop only
	// servedAsMaster: the last rendered config was the master's; render loop only
	servedAsMaster bool
	// relayMaster is the master the relays were last pointed at; render
	// loop only.
	relayMaster *autoradio.MasterInfo
	// handovers runs the steps of master handovers (handover.go).
	handovers handovers
	// lost wakes the render loop when relays were lost; lostStep is set
	// while the node steps aside for them.
	lost     chan struct{}
	lostStep atomic.Bool
}

// New prepares a node: it checks cfg, creates the state directory, loads or
// creates the node's secrets and installs the Icecast web root. Nothing
// runs before Run.
func New(ctx context.Context, cfg Config, etcd *clientv3.Client, reg prometheus.Registerer) (*Node, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "radiod")
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("node: state dir: %w", err)
	}
	sec, err := loadSecrets(cfg.secretsFile())
	if err != nil {
		return nil, err
	}
	if err := icecast.InstallWebroot(ctx, cfg.webRoot()); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	bw, err := bandwidth.New(bandwidth.Config{ProcPath: cfg.ProcPath, Interface: cfg.Interface, IPs: cfg.IPs})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	tm, err := transcode.NewManager(transcode.Config{
		Node: cfg.Name, LocalHost: cfg.IPs[0], LocalPort: cfg.IcecastPort,
		Dir: cfg.transcodeDir(), Liquidsoap: cfg.LiquidsoapBin, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	n := &Node{cfg: cfg, etcd: etcd, log: log, state: newState(tm.Update), transcoders: tm}
	if n.icecast, err = newIcecastServer(&n.cfg, sec); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	n.status = newPublisher(&n.cfg, n.state, n.icecast, bw, log)
	n.metrics = newMetrics(n)
	if reg != nil {
		if err := reg.Register(n.metrics); err != nil {
			return nil, fmt.Errorf("node: metrics: %w", err)
		}
	}
	if n.relays, err = relayproxy.Listen("127.0.0.1", log); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	n.status.relaysFrom = n.relays.Upstreams
	n.lost = make(chan struct{}, 1)
	n.relays.Lost = n.relaysLost
	return n, nil
}

// Run runs the node until stopped ends: the watchers of the cluster's
// configuration, nodes, master and of the node's drain, the node's session
// (presence and elections), the render loop, the status poller and
// Icecast. When stopped ends, the node first hands its work over (see
// handOver), then stops. Run returns after every part has stopped and
// Icecast has exited.
func (n *Node) Run(stopped context.Context) error {
	opts := []coordination.Option{coordination.WithLogger(n.cfg.Logger)}
	// The parts outlive stopped by the handover; the first part to fail stops
	// the others at once, and an error of a part that was being stopped
	// is not one.
	parts, stop := context.WithCancel(context.WithoutCancel(stopped))
	defer stop()
	g, ctx := errgroup.WithContext(parts)
	g.Go(func() error {
		select {
		case <-stopped.Done():
			n.handOver(ctx)
			stop()
		case <-ctx.Done():
		}
		return nil
	})
	run := func(name string, fn func(context.Context) error) {
		g.Go(func() error {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				n.log.Error("stopped", "part", name, "err", err)
				return fmt.Errorf("node: %s: %w", name, err)
			}
			return nil
		})
	}
	run("mounts", func(ctx context.Context) error {
		return coordination.WatchMounts(ctx, n.etcd, func(ms []*autoradio.Mount, _ int64) { n.state.setMounts(ms) }, opts...)
	})
	run("nodes", func(ctx context.Context) error {
		return coordination.WatchNodes(ctx, n.etcd, func(ns []*autoradio.NodeStatus) { n.state.setNodes(n.cfg.Name, ns) }, opts...)
	})
	run("master", func(ctx context.Context) error {
		return coordination.WatchMaster(ctx, n.etcd, n.state.setMaster, opts...)
	})
	run("drain", func(ctx context.Context) error { return n.watchDrain(ctx, opts...) })
	run("session", func(ctx context.Context) error {
		return coordination.RunSession(ctx, n.etcd, n.cfg.SessionTTL, n.session,
			append(opts, coordination.WithSessionLost(n.state.etcdError))...)
	})
	run("relay proxy", n.relays.Run)
	run("render", n.renderLoop)
	run("status", n.status.Run)
	run("icecast", n.icecast.Run)
	return g.Wait()
}

// session is the work done under one etcd session: the node's presence,
// and, while it stands (see standing), its candidacy for master and those
// for the transcoders. It returns when the session is lost, once the
// transcoders it ran have stopped.
func (n *Node) session(ctx context.Context, s *concurrency.Session) error {
	n.status.setPresence(coordination.NewPresence(s, autoradio.NodeKey(n.cfg.Name)))
	defer n.status.setPresence(nil)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	transcoders := make(chan error, 1)
	go func() {
		transcoders <- n.standing(ctx, "transcoders", func(ctx context.Context) error {
			return n.transcoders.RunSession(ctx, s)
		})
		cancel() // a session lost there is lost for the master election too
	}()
	err := n.standing(ctx, "master", func(ctx context.Context) error { return n.masterElection(ctx, s) })
	cancel()
	if terr := <-transcoders; err == nil {
		err = terr
	}
	return err
}

// masterElection is the node's candidacy for master under session s.
func (n *Node) masterElection(ctx context.Context, s *concurrency.Session) error {
	self := autoradio.MasterInfo{Name: n.cfg.Name, IPs: n.cfg.IPs, IcecastPort: n.cfg.IcecastPort}
	el := coordination.NewElection(s, autoradio.MasterElection, coordination.WithLogger(n.cfg.Logger))
	return el.Run(ctx, self, func(lctx context.Context) {
		n.log.Info("elected master")
		n.state.setLeader(true)
		<-lctx.Done()
		n.state.setLeader(false)
		n.log.Info("no longer master", "cause", context.Cause(lctx))
	})
}
