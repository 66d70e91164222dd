package node

import (
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
	gen        atomic.Uint64 // config writes so far
	startedGen atomic.Uint64 // config generation the running process read
	reloads    atomic.Uint64
}

func newIcecastProcess(cfg *Config, sec *secrets, log *slog.Logger) (*icecastProcess, error) {
	p := &icecastProcess{cfg: cfg, log: log, uid: -1, gid: -1, haveConfig: make(chan struct{}),
		http: &http.Client{Timeout: time.Second}}
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

// apply writes a rendered config. The file is readable by Icecast's group
// only (it holds source passwords): Icecast rereads it on SIGHUP after
// dropping root.
func (p *icecastProcess) apply(data []byte) (bool, error) {
	var changed bool
	var err error
	if p.uid >= 0 {
		changed, err = atomicfile.WriteFileOwned(p.cfg.IcecastConfig, data, 0o640, 0, p.gid)
	} else {
		changed, err = atomicfile.WriteFile(p.cfg.IcecastConfig, data, 0o600)
	}
	if err != nil {
		return false, fmt.Errorf("icecast: writing config: %w", err)
	}
	p.once.Do(func() { close(p.haveConfig) })
	if !changed {
		return false, nil
	}
	p.gen.Add(1)
	p.reload()
	return true, nil
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
