package icecast

import "time"

// checkApplied is given the config ID that the running Icecast shows in
// its status, and restarts an Icecast stuck on an older config. It runs
// on the writer goroutine.
//
// Icecast 2.4's slave thread, which rereads the config on SIGHUP and runs
// the relays, can deadlock: when a reload replaces a relay that is still
// connecting and whose attempt then fails, the slave thread waits for the
// relay's thread while holding the lock that thread takes as it ends
// (slave.c, relay_check_streams and start_relay_stream). From then on
// Icecast never starts a relay nor rereads its config again, and the
// mount of the old relay stays reserved, so that a new master refuses the
// mount's source. The relay proxy keeps master changes from replacing
// relays (package relayproxy); a mount with an upstream, edited or
// deleted while the upstream does not answer, still can. The deadlock
// happens after the reload was read, so once Icecast shows a change that
// replaced relays, radiod asks for one more reload of the same config (a
// probe): Icecast shows it only once its slave thread got through the
// relays the change replaced, which takes at most MaxReloadDelay.
func (s *Server) checkApplied(seen uint64, now time.Time) {
	w := &s.w
	if w.built == nil {
		return // still on the config a previous run left, until etcd is read
	}
	want := s.gen.Load()
	if seen == want {
		w.behind = time.Time{}
		if w.probe {
			w.probe = false
			if err := s.write(w.params, w.built); err != nil {
				s.log.Warn("probing Icecast with a reload", "err", err)
			}
		}
		return
	}
	if w.behind.IsZero() {
		w.behind = now
		return
	}
	stuck := now.Sub(w.behind)
	if stuck < MaxReloadDelay(w.params.HeaderTimeout) {
		return
	}
	w.behind = time.Time{}
	s.stuckRestarts.Add(1)
	s.log.Warn("restarting Icecast: it stopped applying its config (its relay thread is deadlocked)",
		"config_shown", seen, "config_written", want, "for", stuck.Round(time.Second))
	s.sup.Restart()
}
