package icecast

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"autoradio/node/child"
)

// newSupervisor prepares the supervision of the icecast2 process. With a
// config left by a previous run, Icecast may start before the first Apply.
func (s *Server) newSupervisor() error {
	sup, err := child.New(child.Config{
		Name:      "icecast",
		Path:      s.cfg.Bin,
		Args:      []string{"-c", s.cfg.ConfigPath},
		Logger:    s.cfg.Logger,
		Redact:    s.redact,
		LineLevel: lineLevel,
		Ready:     s.ready,
		OnEvent:   s.onEvent,
	})
	if err != nil {
		return fmt.Errorf("icecast: %w", err)
	}
	s.sup = sup
	if _, err := os.Stat(s.cfg.ConfigPath); err == nil {
		s.log.Info("starting Icecast with the last known config until etcd is read")
		s.once.Do(func() { close(s.haveConfig) })
		s.feedLastConfig()
	}
	return nil
}

// lineLevel logs Icecast's error log at its own levels and its access log
// (one line per request, including radiod's status polls) at Debug. So is
// the warning that a live silence mount is no file: Icecast looks for one
// whenever a mount falling back to it has no source.
func lineLevel(line string) slog.Level {
	if strings.Contains(line, "unable to open file") && strings.Contains(line, liveSilencePrefix+"/") {
		return slog.LevelDebug
	}
	for _, l := range []struct {
		tag   string
		level slog.Level
	}{{"] EROR ", slog.LevelError}, {"] WARN ", slog.LevelWarn}, {"] INFO ", slog.LevelInfo}, {"] DBUG ", slog.LevelDebug}} {
		if strings.Contains(line, l.tag) {
			return l.level
		}
	}
	if ip, _, ok := strings.Cut(line, " - "); ok && net.ParseIP(ip) != nil {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// prepareDirs creates Icecast's base directory, owned by the user Icecast
// drops to, resolves that user for the config file's group, and checks
// that the user can reach what Icecast uses once it dropped root.
func (s *Server) prepareDirs() error {
	dir := s.cfg.BaseDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("icecast: dir: %w", err)
	}
	if s.cfg.User == "" {
		return nil
	}
	a, err := lookupAccount(s.cfg.User, s.cfg.Group)
	if err != nil {
		return err
	}
	s.uid, s.gid = a.uid, a.groups[0]
	if err := os.Chown(dir, s.uid, s.gid); err != nil {
		return fmt.Errorf("icecast: dir: %w", err)
	}
	return s.checkAccess(a)
}

// checkAccess checks that a can write its PID file and logs in the base
// directory, reread the config (written readable by its group) and read
// the status stylesheet, without which Icecast is never ready.
func (s *Server) checkAccess(a account) error {
	type need struct {
		path string
		want fs.FileMode
	}
	needs := []need{{s.cfg.BaseDir, permWrite | permExec}, {filepath.Dir(s.cfg.ConfigPath), permExec}}
	if s.cfg.WebRoot != "" {
		needs = append(needs, need{filepath.Join(s.cfg.WebRoot, filepath.Base(StatusPath)), permRead})
	}
	for _, n := range needs {
		if err := a.check(n.path, n.want); err != nil {
			return err
		}
	}
	return nil
}

// supervise waits for a config, then keeps Icecast running until ctx ends.
func (s *Server) supervise(ctx context.Context) error {
	select {
	case <-s.haveConfig:
	case <-ctx.Done():
		return nil
	}
	s.stopStale(5 * time.Second)
	return s.sup.Run(ctx)
}

// reload sends SIGHUP to a ready Icecast. One that is still starting may
// have read the previous config: it is reloaded when it becomes ready.
func (s *Server) reload() {
	if !s.sup.Ready() {
		return
	}
	gen := s.gen.Load()
	if err := s.sup.Reload(); err != nil {
		s.log.Warn("reloading Icecast", "err", err)
		return
	}
	s.startedGen.Store(gen)
	s.reloads.Add(1)
	s.log.Info("Icecast reloaded")
}

func (s *Server) onEvent(e child.Event) {
	switch e.Kind {
	case child.Started:
		s.startedGen.Store(s.gen.Load())
	case child.Ready:
		if s.gen.Load() != s.startedGen.Load() {
			s.reload()
		}
	}
}

// ready checks that Icecast answers with the autoradio status stylesheet.
func (s *Server) ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL+StatusPath, nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("icecast status: %s", resp.Status)
	}
	return nil
}
