package icecast

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"autoradio"
)

// newTestServer is a Server whose Icecast never runs: its config file is
// written, its reloads are skipped.
func newTestServer(t *testing.T) *Server {
	t.Helper()
	dir := t.TempDir()
	s, err := NewServer(ServerConfig{
		ConfigPath: filepath.Join(dir, "icecast.xml"), BaseDir: filepath.Join(dir, "icecast"),
		URL: "http://127.0.0.1:1", AdminPassword: "admin-secret", RelayPassword: "relay-secret",
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readConfigID reads the config ID of the config file s wrote.
func readConfigID(t *testing.T, s *Server) uint64 {
	t.Helper()
	data, err := os.ReadFile(s.cfg.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	return (&Status{Location: mustParseXML(t, data).Location}).ConfigID()
}

// A config is written, under a new config ID, when and only when it
// changed; a change that replaces relays is probed once Icecast shows it.
func TestApplyWritesOnlyChanges(t *testing.T) {
	s := newTestServer(t)
	p := baseParams()
	p.User, p.Group = "", ""
	p.Mounts = masterMounts()
	apply := func(what string, p Params, want bool) uint64 {
		t.Helper()
		changed, err := s.apply(p)
		if err != nil || changed != want {
			t.Fatalf("%s: changed %v, err %v; want %v", what, changed, err, want)
		}
		id := readConfigID(t, s)
		if id != s.gen.Load() {
			t.Fatalf("%s: the file has config %d, the server wrote %d", what, id, s.gen.Load())
		}
		return id
	}
	first := apply("first config", p, true)
	if apply("same config", p, false) != first {
		t.Error("an unchanged config was written again")
	}
	added := p
	added.Mounts = append(masterMounts(), &autoradio.Mount{Name: "/new.ogg", Username: "u", Password: "p"})
	second := apply("a mount added", added, true)
	if second != first+1 || s.w.probe {
		t.Errorf("a mount added: config %d after %d, probe %v; want the next ID, no probe", second, first, s.w.probe)
	}
	deleted := p
	deleted.Mounts = masterMounts()[:2] // its upstream relays stop
	third := apply("upstreams deleted", deleted, true)
	if !s.w.probe {
		t.Error("upstreams deleted: no probe")
	}
	s.checkApplied(third, time.Now())
	if probe := readConfigID(t, s); probe != third+1 || s.w.probe {
		t.Errorf("probe: config %d after %d, probe still due %v; want the same config under the next ID", probe, third, s.w.probe)
	}
	if s.Stats().Changed.IsZero() {
		t.Error("Stats().Changed is zero after changes")
	}
}

// An Icecast that keeps showing an older config for MaxReloadDelay is
// restarted, once, and counted.
func TestCheckAppliedRestartsStuckIcecast(t *testing.T) {
	s := newTestServer(t)
	p := baseParams()
	p.User, p.Group = "", ""
	s.checkApplied(1, time.Now())
	if s.w.behind != (time.Time{}) {
		t.Fatal("a config left by a previous run was watched")
	}
	if _, err := s.apply(p); err != nil {
		t.Fatal(err)
	}
	old := s.gen.Load() - 1
	start := time.Now()
	for _, step := range []struct {
		after time.Duration
		want  uint64
	}{
		{0, 0},
		{MaxReloadDelay(0) - time.Second, 0},
		{MaxReloadDelay(0), 1},
		{MaxReloadDelay(0) + time.Second, 1}, // watched anew from here
	} {
		s.checkApplied(old, start.Add(step.after))
		if n := s.stuckRestarts.Load(); n != step.want {
			t.Errorf("older config shown for %v: %d stuck restarts, want %d", step.after, n, step.want)
		}
	}
	s.checkApplied(s.gen.Load(), time.Now())
	if !s.w.behind.IsZero() {
		t.Error("the config written is shown, yet Icecast is still taken to be behind")
	}
}
