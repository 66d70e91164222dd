package icecast

import (
	"context"
	"errors"
	"time"
)

// unreadableWarnEvery bounds how often a status that keeps failing to
// parse is logged.
const unreadableWarnEvery = time.Minute

// poller is the state of the poll loop: the last status of Icecast that
// could be read, and since when it cannot be (zero: it can).
type poller struct {
	lastGood        *Status
	unreadableSince time.Time
	unreadableWarn  time.Time // when that was last logged
}

// pollLoop reads the status of a ready Icecast every PollInterval, and
// hands the config ID it shows to the writer's checkApplied.
func (s *Server) pollLoop(ctx context.Context) error {
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		var st *Status
		if s.Up() {
			var fresh bool
			st, fresh = s.readStatus(ctx)
			if fresh {
				s.sawConfig(st.ConfigID())
				select {
				case s.seen <- seenConfig{st.ConfigID(), time.Now()}:
				case <-ctx.Done():
					return nil
				}
			}
		}
		s.status.Store(st)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// readStatus reads Icecast's status; nil when Icecast does not answer,
// fresh when it was read now. An answer that does not parse does not make
// a working Icecast down (it answered): the last status that could be
// read stands in for it, and the failure is counted and logged at warn,
// at most once every unreadableWarnEvery.
func (s *Server) readStatus(ctx context.Context) (st *Status, fresh bool) {
	s.client.ExcludeRelays = s.countRelays.Load()
	st, err := s.client.Fetch(ctx)
	now := time.Now()
	p := &s.poll
	switch {
	case err == nil:
		if !p.unreadableSince.IsZero() {
			s.log.Info("Icecast status readable again", "after", now.Sub(p.unreadableSince).Round(time.Second))
			p.unreadableSince = time.Time{}
		}
		st.At = now
		p.lastGood = st
		return st, true
	case errors.Is(err, ErrUnreadableStatus):
		s.unreadable.Add(1)
		if p.unreadableSince.IsZero() {
			p.unreadableSince = now
		}
		if now.Sub(p.unreadableWarn) >= unreadableWarnEvery {
			p.unreadableWarn = now
			s.log.Warn("Icecast status unreadable, keeping the last readable one",
				"since", p.unreadableSince.Format(time.RFC3339), "err", err)
		}
		if p.lastGood == nil {
			return &Status{}, false
		}
		return p.lastGood, false
	default:
		s.log.Debug("reading Icecast status", "err", err)
		return nil, false
	}
}
