package icecast

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"autoradio/node/atomicfile"
)

// writer is the state of the goroutine that writes the config.
type writer struct {
	params Params     // of the last config written
	built  *xmlConfig // its build with ConfigID 0; nil: none written by this run
	probe  bool       // the last change is to be followed by a probe
	behind time.Time  // since when Icecast shows an older config; zero: it does not
}

type applyRequest struct {
	params Params
	done   chan applyResult
}

type applyResult struct {
	changed bool
	err     error
}

// seenConfig is a config ID shown by Icecast's status, and when.
type seenConfig struct {
	id uint64
	at time.Time
}

// Apply has Icecast run the config for p, and reports whether the config
// changed: the file is written, and Icecast reloaded, only then. The
// Server fills in what it owns: BaseDir, WebRoot, User, Group and the
// passwords.
// Apply waits for Run's writer; it fails when ctx ends first or once Run
// has returned.
func (s *Server) Apply(ctx context.Context, p Params) (bool, error) {
	p.BaseDir, p.WebRoot, p.User, p.Group = s.cfg.BaseDir, s.cfg.WebRoot, s.cfg.User, s.cfg.Group
	p.AdminPassword, p.RelayPassword = s.cfg.AdminPassword, s.cfg.RelayPassword
	p.ConfigID = 0
	req := applyRequest{params: p, done: make(chan applyResult, 1)}
	select {
	case s.applies <- req:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-s.stopped:
		return false, ErrStopped
	}
	r := <-req.done
	return r.changed, r.err
}

// writeLoop is the only goroutine that writes the config: the configs
// given to Apply, and the probes of checkApplied.
func (s *Server) writeLoop(ctx context.Context) error {
	defer close(s.stopped)
	for {
		select {
		case <-ctx.Done():
			return nil
		case req := <-s.applies:
			changed, err := s.apply(req.params)
			req.done <- applyResult{changed, err}
		case seen := <-s.seen:
			s.checkApplied(seen.id, seen.at)
		}
	}
}

// apply writes the config for p, when it differs from the last one, and
// has Icecast reload it. The config is built once; it is encoded only
// when it changed.
func (s *Server) apply(p Params) (bool, error) {
	built, err := p.config()
	if err != nil {
		return false, err
	}
	w := &s.w
	if w.built != nil && reflect.DeepEqual(built, w.built) {
		return false, nil
	}
	// Only a reload that stops or re-points a relay can leave Icecast
	// stuck (see checkApplied); those are probed.
	probe := w.built != nil && replacesRelays(w.built, built)
	if err := s.write(p, built); err != nil {
		return false, err
	}
	w.probe = probe
	now := time.Now()
	s.changed.Store(&now)
	return true, nil
}

// write writes built, the config for p, under the next config ID and has
// Icecast reload it. The file is readable by Icecast's group only (it
// holds source passwords): Icecast rereads it on SIGHUP after dropping
// root.
func (s *Server) write(p Params, built *xmlConfig) error {
	id := s.gen.Load() + 1
	withID := *built
	withID.Location = location(p.NodeName, id)
	data, err := withID.encode()
	if err != nil {
		return err
	}
	if s.uid >= 0 {
		_, err = atomicfile.WriteFileOwned(s.cfg.ConfigPath, data, 0o640, 0, s.gid)
	} else {
		_, err = atomicfile.WriteFile(s.cfg.ConfigPath, data, 0o600)
	}
	if err != nil {
		return fmt.Errorf("icecast: writing config: %w", err)
	}
	s.w.params, s.w.built = p, built
	s.setFeeds(silenceFeeds(built))
	s.summarize(p, id)
	s.gen.Store(id)
	s.once.Do(func() { close(s.haveConfig) })
	s.reload()
	return nil
}

// appliedPoll is how often WaitApplied asks Icecast.
const appliedPoll = 100 * time.Millisecond

// WaitApplied waits until Icecast shows, in its status, the config last
// written: it has read it (a reload is asynchronous), or ctx ends.
func (s *Server) WaitApplied(ctx context.Context) error {
	t := time.NewTicker(appliedPoll)
	defer t.Stop()
	for {
		want := s.gen.Load()
		body, err := s.client.get(ctx, StatusPath, false, maxStatusBytes)
		if err == nil {
			var st *Status
			if st, err = ParseStatus(body); err == nil && st.ConfigID() == want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("icecast: waiting for config %d to be applied: %w", want, ctx.Err())
		case <-t.C:
		}
	}
}
