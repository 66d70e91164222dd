package icecast

// A configSummary is what a config written by this run holds that others
// ask about once Icecast has applied it.
type configSummary struct {
	id     uint64
	master bool
	mounts map[string]bool
}

// summarize records the config written under id for p, before Icecast is
// asked to read it.
func (s *Server) summarize(p Params, id uint64) {
	mounts := make(map[string]bool, len(p.Mounts))
	for _, m := range p.Mounts {
		mounts[m.Name] = true
	}
	s.written.Store(&configSummary{id: id, master: p.IsMaster, mounts: mounts})
}

// sawConfig is told the config ID that Icecast's status shows: when it is
// the last one written, that config is the applied one.
func (s *Server) sawConfig(id uint64) {
	if w := s.written.Load(); w != nil && w.id == id {
		s.applied.Store(w)
	}
}

// Applied reports whether Icecast has applied a config of this run that
// has mount in the given role (master or relay of the master): the
// master then takes the mount's source with its credentials, any other
// node relays the mount from the master.
func (s *Server) Applied(mount string, master bool) bool {
	a := s.applied.Load()
	return a != nil && a.master == master && a.mounts[mount]
}
