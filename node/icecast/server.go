package icecast

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"autoradio/node/child"
)

// ServerConfig describes a node's Icecast. Zero optional fields take the
// defaults given in their comments.
type ServerConfig struct {
	// Bin is the icecast2 program. Default: "icecast2".
	Bin string
	// ConfigPath is where the generated config is written; required.
	ConfigPath string
	// BaseDir is Icecast's <basedir>, created by NewServer; required.
	BaseDir string
	// WebRoot is Icecast's <webroot>, made by InstallWebroot. Default:
	// the icecast2 package's, which has no status stylesheet.
	WebRoot string
	// User and Group are what Icecast drops to (<changeowner>) when
	// started as root; they own BaseDir and can read the config.
	// NewServer fails, saying what is in the way and how to fix it, when
	// they cannot reach BaseDir, the config's directory or the web root.
	// Empty: Icecast runs as radiod's user.
	User, Group string
	// URL is where Icecast answers radiod, e.g. "http://127.0.0.1:8000";
	// required.
	URL string
	// AdminPassword and RelayPassword are the node's own Icecast
	// passwords; required. They are masked in Icecast's logged output.
	AdminPassword, RelayPassword string
	// ProcPath is where procfs is mounted, to find an Icecast left by a
	// previous radiod. Default: /proc.
	ProcPath string
	// PollInterval is how often the status is read. Default: 1s.
	PollInterval time.Duration
	// Logger receives Icecast's output (component=icecast) and the
	// Server's own messages, which are radiod's decisions about Icecast
	// and keep component=radiod. Default: slog.Default().
	Logger *slog.Logger
}

// Server is the local Icecast, and its only owner: it supervises the
// process, writes its config and reloads it, reads its status and
// watches that it applies its config. Icecast starts once a config exists
// (the last known one from a previous run counts, so that an etcd outage
// at start-up does not keep listeners waiting) and is reloaded with
// SIGHUP when, and only when, the config file changed.
type Server struct {
	cfg    ServerConfig
	log    *slog.Logger
	sup    *child.Supervisor
	uid    int
	gid    int
	http   *http.Client
	client *StatusClient // the poll loop's

	haveConfig chan struct{}
	once       sync.Once
	gen        atomic.Uint64                 // config ID of the last config written
	startedGen atomic.Uint64                 // config ID the running process read
	written    atomic.Pointer[configSummary] // the config last written
	applied    atomic.Pointer[configSummary] // the last one Icecast showed

	// The writer goroutine is the only one that writes the config; Apply
	// and the poll loop send it their work.
	applies chan applyRequest
	seen    chan seenConfig
	stopped chan struct{} // closed when the writer returns
	w       writer        // owned by the writer goroutine

	countRelays atomic.Bool
	status      atomic.Pointer[Status] // the poll loop's last answer; nil: none
	poll        poller                 // owned by the poll loop

	feeds         chan map[string]string // setFeeds to feedSilence
	feeding       atomic.Int64           // silence feeds streaming now
	reloads       atomic.Uint64
	stuckRestarts atomic.Uint64
	unreadable    atomic.Uint64
	changed       atomic.Pointer[time.Time]
}

// Stats are counters of a Server, for metrics.
type Stats struct {
	// Reloads: one per config change, and one more after a change that
	// stops or re-points relays (see checkApplied).
	Reloads uint64
	// Restarts are Icecast starts after the first one.
	Restarts uint64
	// StuckRestarts are restarts of an Icecast that stopped applying its
	// config (see checkApplied).
	StuckRestarts uint64
	// UnreadableStatus counts status answers that did not parse.
	UnreadableStatus uint64
	// SilenceFeeds is how many live silence mounts are being fed now:
	// when all is well, one per mount without a fallback of its own
	// (see feedSilence).
	SilenceFeeds int
	// Changed is when Apply last changed the config; zero: never.
	Changed time.Time
}

// ErrStopped is returned by Apply once Run has returned.
var ErrStopped = errors.New("icecast: server stopped")

// NewServer prepares Icecast's base directory and its supervisor. Nothing
// runs before Run.
func NewServer(cfg ServerConfig) (*Server, error) {
	cfg.Bin = cmp.Or(cfg.Bin, "icecast2")
	cfg.ProcPath = cmp.Or(cfg.ProcPath, "/proc")
	cfg.PollInterval = cmp.Or(cfg.PollInterval, time.Second)
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	if cfg.ConfigPath == "" || cfg.BaseDir == "" || cfg.URL == "" {
		return nil, errors.New("icecast: server: ConfigPath, BaseDir and URL are required")
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger.With("component", "radiod"), uid: -1, gid: -1,
		http:       &http.Client{Timeout: time.Second},
		client:     &StatusClient{URL: cfg.URL, AdminPassword: cfg.AdminPassword, Logger: cfg.Logger},
		haveConfig: make(chan struct{}),
		applies:    make(chan applyRequest),
		seen:       make(chan seenConfig),
		stopped:    make(chan struct{}),
		feeds:      make(chan map[string]string, 1),
	}
	// Config IDs grow across radiod restarts too, so that the config a
	// previous run left is never taken for the current one.
	s.gen.Store(uint64(time.Now().Unix()) << 16)
	if err := s.prepareDirs(); err != nil {
		return nil, err
	}
	if err := s.newSupervisor(); err != nil {
		return nil, err
	}
	return s, nil
}

// Run runs Icecast until ctx ends: it waits for a config, stops any
// Icecast a previous radiod left, then supervises the process, writes
// the configs given to Apply, polls the status and feeds the live silence
// mounts (feedSilence). It returns once Icecast has exited.
func (s *Server) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.supervise(ctx) })
	g.Go(func() error { return s.writeLoop(ctx) })
	g.Go(func() error { return s.pollLoop(ctx) })
	g.Go(func() error { return s.feedSilence(ctx) })
	return g.Wait()
}

// Up reports whether Icecast runs and answered its readiness check.
func (s *Server) Up() bool { return s.sup.Ready() }

// CountRelays makes the status count the relay connections of other
// nodes apart from listeners: set it on the master, which they relay from.
func (s *Server) CountRelays(on bool) { s.countRelays.Store(on) }

// Status is Icecast's last status; nil when Icecast is not up or did not
// answer. An answer that did not parse does not make a working Icecast
// down: the last status that could be read stands in for it.
func (s *Server) Status() *Status {
	if !s.Up() {
		return nil
	}
	return s.status.Load()
}

// Stats returns the Server's counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Reloads:          s.reloads.Load(),
		Restarts:         s.sup.Restarts(),
		StuckRestarts:    s.stuckRestarts.Load(),
		UnreadableStatus: s.unreadable.Load(),
		SilenceFeeds:     int(s.feeding.Load()),
	}
	if t := s.changed.Load(); t != nil {
		st.Changed = *t
	}
	return st
}

// redact masks the passwords in a line of Icecast's output.
func (s *Server) redact(line string) string {
	for _, x := range []string{s.cfg.AdminPassword, s.cfg.RelayPassword} {
		if x != "" {
			line = strings.ReplaceAll(line, x, "********")
		}
	}
	return line
}
