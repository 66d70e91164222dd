package node

import (
	"context"
	"time"

	"autoradio/node/icecast"
)

// newIcecastServer prepares the local Icecast with the node's settings
// and secrets.
func newIcecastServer(cfg *Config, sec *secrets) (*icecast.Server, error) {
	return icecast.NewServer(icecast.ServerConfig{
		Bin:           cfg.IcecastBin,
		ConfigPath:    cfg.IcecastConfig,
		BaseDir:       cfg.icecastDir(),
		WebRoot:       cfg.webRoot(),
		User:          cfg.IcecastUser,
		Group:         cfg.IcecastGroup,
		URL:           cfg.icecastURL(),
		AdminPassword: sec.AdminPassword,
		RelayPassword: sec.RelayPassword,
		ProcPath:      cfg.ProcPath,
		PollInterval:  cfg.PollInterval,
		Logger:        cfg.Logger,
	})
}

// renderLoop rewrites the Icecast config whenever the cluster state moves.
func (n *Node) renderLoop(ctx context.Context) error {
	defer n.handovers.stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-n.lost:
			n.stepAsideForLostRelays(ctx)
			continue
		case <-n.state.changed:
		}
		n.render(ctx)
	}
}

// render writes the config for the current state, when the state says
// enough: the mounts must have been read, and a node that is not master
// must know whom to relay from. Otherwise the last config stays, so that
// Icecast keeps serving through an etcd outage or an election.
func (n *Node) render(ctx context.Context) {
	r := n.state.role(n.cfg.Name)
	n.icecast.CountRelays(r.isMaster)
	if !r.mountsOK || (!r.isMaster && r.master == nil) {
		n.log.Debug("keeping the current Icecast config", "mounts_read", r.mountsOK, "master", r.isMaster)
		return
	}
	// Relays are closed before a config without them is loaded (see
	// package relayproxy); a node that relays needs no reload when the
	// master changes, only its relays moved (see handover.go).
	was := n.servedAsMaster
	n.servedAsMaster = r.isMaster
	if r.isMaster {
		if !was {
			n.takeOver(ctx)
		}
		n.relays.SetUpstream("")
	} else {
		n.switchRelays(ctx, r.master)
		if was {
			n.handDown(ctx, r)
		}
	}
	changed, err := n.icecast.Apply(ctx, n.params(r))
	if err != nil {
		if ctx.Err() == nil {
			n.log.Error("applying Icecast config", "err", err)
		}
		return
	}
	if changed {
		n.log.Info("Icecast config updated", "mounts", len(r.mounts), "master", r.isMaster)
	}
	n.killDeleted(r)
}

// demoteApplyWait bounds how long a demoted master waits for Icecast to
// apply its relay config before it disconnects its sources.
const demoteApplyWait = 5 * time.Second

// killDemoted disconnects every source of a node that is no longer
// master and now relays from another one (see handDown for when).
// Icecast keeps connected sources across a reload, so without this a
// source would stay on the old master, where nobody relays it from, and
// block the relay of its own mount there ("source already exists"),
// until it disconnected by itself. Disconnected, it reconnects through a
// front-end, to the new master. The sources are disconnected only once
// Icecast has read the relay config, which no longer accepts their
// credentials: before, one that reconnects at once to this Icecast would
// take the mount back.
func (n *Node) killDemoted(ctx context.Context, r role) {
	ctx, cancel := context.WithTimeout(ctx, demoteApplyWait)
	defer cancel()
	if err := n.icecast.WaitApplied(ctx); err != nil {
		n.log.Warn("disconnecting the sources of a node no longer master before Icecast applied its relay config", "err", err)
	}
	for _, m := range r.mounts {
		n.killSource(m.Name, "source of a node no longer master")
	}
}

// killDeleted disconnects the sources of mounts deleted while this node is
// master: Icecast would otherwise keep serving a connected source whose
// mount is no longer configured.
func (n *Node) killDeleted(r role) {
	current := make(map[string]bool, len(r.mounts))
	for _, m := range r.mounts {
		current[m.Name] = true
	}
	previous := n.served
	n.served = current
	if !r.isMaster {
		return
	}
	for name := range previous {
		if !current[name] {
			n.killSource(name, "source of a deleted mount")
		}
	}
}

// killSource disconnects the source of mount on the local Icecast; what
// says which source, for the log.
func (n *Node) killSource(mount, what string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := n.icecast.KillSource(ctx, mount); err != nil {
		n.log.Warn("stopping the "+what, "mount", mount, "err", err)
		return
	}
	n.log.Info("stopped the "+what, "mount", mount)
}

func (n *Node) params(r role) icecast.Params {
	p := icecast.Params{
		NodeName:       n.cfg.Name,
		ListenIPs:      n.cfg.IPs,
		Port:           n.cfg.IcecastPort,
		MaxListeners:   n.cfg.MaxListeners,
		IsMaster:       r.isMaster,
		RelayNodes:     r.others,
		Mounts:         r.mounts,
		LowBurstMounts: lowBurstMounts(r.mounts),
	}
	if !r.isMaster {
		p.MasterIP, p.MasterPort = n.relays.Addr()
	}
	return p
}
