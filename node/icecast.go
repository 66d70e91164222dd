package node

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"autoradio/node/atomicfile"
	"autoradio/node/child"
	"autoradio/node/icecast"
)

// icecastProcess is the local Icecast: its config file and the supervised
// process. Icecast starts once a config exists (the last known one from a
// previous run counts, so that an etcd outage at start-up does not keep
// listeners waiting) and is reloaded with SIGHUP when, and only when, the
// config file changed.
type icecastProcess struct {
	cfg  *Config
	log  *slog.Logger
	sup  *child.Supervisor
	uid  int
	gid  int
	http *http.Client

	haveConfig chan struct{}
	once       sync.Once
	gen        atomic.Uint64 // config ID of the last config written
	startedGen atomic.Uint64 // config ID the running process read
	reloads    atomic.Uint64
	// stuckRestarts counts restarts of an Icecast that stopped applying
	// its config (see checkApplied).
	stuckRestarts atomic.Uint64

	mu     sync.Mutex
	params icecast.Params // of the last config written, ConfigID 0
	plain  []byte         // its rendering with ConfigID 0
	probe  bool           // the last change is to be followed by a probe
	behind time.Time      // since when Icecast shows an older config; zero: it does not
}

func newIcecastProcess(cfg *Config, sec *secrets, log *slog.Logger) (*icecastProcess, error) {
	p := &icecastProcess{cfg: cfg, log: log, uid: -1, gid: -1, haveConfig: make(chan struct{}),
		http: &http.Client{Timeout: time.Second}}
	// Config IDs grow across radiod restarts too, so that the config a
	// previous run left is never taken for the current one.
	p.gen.Store(uint64(time.Now().Unix()) << 16)
	if err := p.prepareDirs(); err != nil {
		return nil, err
	}
	sup, err := child.New(child.Config{
		Name:      "icecast",
		Path:      cfg.IcecastBin,
		Args:      []string{"-c", cfg.IcecastConfig},
		Logger:    cfg.Logger,
		Redact:    sec.redact,
		LineLevel: icecastLineLevel,
		Ready:     p.ready,
		OnEvent:   p.onEvent,
	})
	if err != nil {
		return nil, fmt.Errorf("node: icecast: %w", err)
	}
	p.sup = sup
	if _, err := os.Stat(cfg.IcecastConfig); err == nil {
		p.log.Info("starting Icecast with the last known config until etcd is read")
		p.once.Do(func() { close(p.haveConfig) })
	}
	return p, nil
}

// icecastLineLevel logs Icecast's error log at its own levels and its
// access log (one line per request, including radiod's status polls) at
// Debug.
func icecastLineLevel(line string) slog.Level {
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
// drops to, and resolves that user for the config file's group.
func (p *icecastProcess) prepareDirs() error {
	dir := p.cfg.icecastDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("node: icecast dir: %w", err)
	}
	if p.cfg.IcecastUser == "" {
		return nil
	}
	u, err := user.Lookup(p.cfg.IcecastUser)
	if err != nil {
		return fmt.Errorf("node: icecast user: %w", err)
	}
	g, err := user.LookupGroup(p.cfg.IcecastGroup)
	if err != nil {
		return fmt.Errorf("node: icecast group: %w", err)
	}
	p.uid, _ = strconv.Atoi(u.Uid)
	p.gid, _ = strconv.Atoi(g.Gid)
	if err := os.Chown(dir, p.uid, p.gid); err != nil {
		return fmt.Errorf("node: icecast dir: %w", err)
	}
	return nil
}

// Run waits for a config, then keeps Icecast running until ctx ends.
func (p *icecastProcess) Run(ctx context.Context) error {
	select {
	case <-p.haveConfig:
	case <-ctx.Done():
		return nil
	}
	p.stopStaleIcecast(5 * time.Second)
	return p.sup.Run(ctx)
}

// apply writes the config for params, when it differs from the last one,
// and has Icecast reload it. The file is readable by Icecast's group only
// (it holds source passwords): Icecast rereads it on SIGHUP after
// dropping root.
func (p *icecastProcess) apply(params icecast.Params) (bool, error) {
	params.ConfigID = 0
	plain, err := icecast.Render(params)
	if err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.plain != nil && bytes.Equal(plain, p.plain) {
		return false, nil
	}
	// Only a reload that stops or re-points a relay can leave Icecast
	// stuck (see checkApplied); those are probed.
	probe := p.plain != nil && icecast.ReplacesRelays(p.params, params)
	if err := p.write(params); err != nil {
		return false, err
	}
	p.plain, p.probe = plain, probe
	return true, nil
}

// write writes the config for params under the next config ID and has
// Icecast reload it; p.mu is held.
func (p *icecastProcess) write(params icecast.Params) error {
	params.ConfigID = p.gen.Load() + 1
	data, err := icecast.Render(params)
	if err != nil {
		return err
	}
	if p.uid >= 0 {
		_, err = atomicfile.WriteFileOwned(p.cfg.IcecastConfig, data, 0o640, 0, p.gid)
	} else {
		_, err = atomicfile.WriteFile(p.cfg.IcecastConfig, data, 0o600)
	}
	if err != nil {
		return fmt.Errorf("icecast: writing config: %w", err)
	}
	p.params = params
	p.gen.Store(params.ConfigID)
	p.once.Do(func() { close(p.haveConfig) })
	p.reload()
	return nil
}

// checkApplied is given the config ID that the running Icecast shows in
// its status, and restarts an Icecast stuck on an older config.
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
// relays the change replaced, which takes at most icecast.MaxReloadDelay.
func (p *icecastProcess) checkApplied(seen uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.plain == nil {
		return // still on the config a previous run left, until etcd is read
	}
	want := p.gen.Load()
	if seen == want {
		p.behind = time.Time{}
		if p.probe {
			p.probe = false
			if err := p.write(p.params); err != nil {
				p.log.Warn("probing Icecast with a reload", "err", err)
			}
		}
		return
	}
	if p.behind.IsZero() {
		p.behind = now
		return
	}
	stuck := now.Sub(p.behind)
	if stuck < icecast.MaxReloadDelay(p.params.HeaderTimeout) {
		return
	}
	p.behind = time.Time{}
	p.stuckRestarts.Add(1)
	p.log.Warn("restarting Icecast: it stopped applying its config (its relay thread is deadlocked)",
		"config_shown", seen, "config_written", want, "for", stuck.Round(time.Second))
	p.sup.Restart()
}

// reload sends SIGHUP to a ready Icecast. One that is still starting may
// have read the previous config: it is reloaded when it becomes ready.
func (p *icecastProcess) reload() {
	if !p.sup.Ready() {
		return
	}
	gen := p.gen.Load()
	if err := p.sup.Reload(); err != nil {
		p.log.Warn("reloading Icecast", "err", err)
		return
	}
	p.startedGen.Store(gen)
	p.reloads.Add(1)
	p.log.Info("Icecast reloaded")
}

func (p *icecastProcess) onEvent(e child.Event) {
	switch e.Kind {
	case child.Started:
		p.startedGen.Store(p.gen.Load())
	case child.Ready:
		if p.gen.Load() != p.startedGen.Load() {
			p.reload()
		}
	}
}

// ready checks that Icecast answers with the autoradio status stylesheet.
func (p *icecastProcess) ready(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.baseURL()+icecast.StatusPath, nil)
	if err != nil {
		return err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("icecast status: %s", resp.Status)
	}
	return nil
}

// Up reports whether Icecast runs and answered its readiness check.
func (p *icecastProcess) Up() bool { return p.sup.Ready() }

func (p *icecastProcess) baseURL() string {
	return "http://" + net.JoinHostPort(p.cfg.IPs[0], strconv.Itoa(p.cfg.IcecastPort))
}
