package node

import (
	"context"
	"time"

	"autoradio/node/icecast"
)

// renderLoop rewrites the Icecast config whenever the cluster state moves.
func (n *Node) renderLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-n.state.changed:
		}
		n.render()
	}
}

// render writes the config for the current state, when the state says
// enough: the mounts must have been read, and a node that is not master
// must know whom to relay from. Otherwise the last config stays, so that
// Icecast keeps serving through an etcd outage or an election.
func (n *Node) render() {
	r := n.state.role(n.cfg.Name)
	if !r.mountsOK || (!r.isMaster && r.master == nil) {
		n.log.Debug("keeping the current Icecast config", "mounts_read", r.mountsOK, "master", r.isMaster)
		return
	}
	data, err := icecast.Render(n.params(r))
	if err != nil {
		n.log.Error("rendering Icecast config", "err", err)
		return
	}
	changed, err := n.icecast.apply(data)
	if err != nil {
		n.log.Error("applying Icecast config", "err", err)
		return
	}
	if changed {
		n.state.mu.Lock()
		n.state.lastReload = time.Now()
		n.state.mu.Unlock()
		n.log.Info("Icecast config updated", "mounts", len(r.mounts), "master", r.isMaster)
	}
	n.killDeleted(r)
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
		if current[name] {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := icecast.KillSource(ctx, n.icecast.http, n.icecast.baseURL(), n.secrets.AdminPassword, name)
		cancel()
		if err != nil {
			n.log.Warn("stopping the source of a deleted mount", "mount", name, "err", err)
			continue
		}
		n.log.Info("stopped the source of a deleted mount", "mount", name)
	}
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
		AdminPassword:  n.secrets.AdminPassword,
		RelayPassword:  n.secrets.RelayPassword,
		BaseDir:        n.cfg.icecastDir(),
		WebRoot:        n.cfg.webRoot(),
		User:           n.cfg.IcecastUser,
		Group:          n.cfg.IcecastGroup,
	}
	if r.master != nil {
		p.MasterIP, p.MasterPort = r.master.IPs[0], r.master.IcecastPort
	}
	return p
}
