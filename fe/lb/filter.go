package lb

import "autoradio"

// underLimits reports whether a node, as last reported, can take one more
// listener: Icecast up, fewer listeners than its maximum, and less
// bandwidth than its limit (a limit of 0 means none).
func underLimits(s *autoradio.NodeStatus) bool {
	if !s.IcecastOK {
		return false
	}
	if s.MaxListeners > 0 && s.Listeners >= s.MaxListeners {
		return false
	}
	if s.BandwidthLimitBps > 0 && s.BandwidthBps >= s.BandwidthLimitBps {
		return false
	}
	return true
}

// liveMounts returns the mounts a node can serve: those with a live source.
func liveMounts(s *autoradio.NodeStatus) []autoradio.MountStatus {
	live := make([]autoradio.MountStatus, 0, len(s.Mounts))
	for _, m := range s.Mounts {
		if m.SourceConnected && m.Name != "" {
			live = append(live, m)
		}
	}
	return live
}
