package node

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"autoradio"
	"autoradio/coordination"
	"autoradio/node/bandwidth"
	"autoradio/node/icecast"
)

// publisher polls the local Icecast and the network interface, and
// publishes the node's status under its presence key: when it changed, and
// at least every Heartbeat.
type publisher struct {
	cfg     *Config
	state   *state
	icecast *icecastProcess
	bw      *bandwidth.Monitor
	client  *icecast.StatusClient
	http    *http.Client // for the front-end
	log     *slog.Logger
	kick    chan struct{}

	mu        sync.Mutex
	presence  *coordination.Presence
	published *autoradio.NodeStatus // last written, UpdatedAt zeroed
	at        time.Time

	current atomic.Pointer[autoradio.NodeStatus]

	// Owned by the poll loop: the last status of Icecast that could be
	// read, and since when it cannot be (zero: it can).
	lastGood        *icecast.Status
	unreadableSince time.Time
	unreadableWarn  time.Time // when that was last logged
	unreadable      atomic.Uint64
}

// unreadableWarnEvery bounds how often a status that keeps failing to
// parse is logged.
const unreadableWarnEvery = time.Minute

func newPublisher(cfg *Config, st *state, ic *icecastProcess, bw *bandwidth.Monitor, sec *secrets, log *slog.Logger) *publisher {
	u, _ := url.Parse(ic.baseURL())
	return &publisher{
		cfg: cfg, state: st, icecast: ic, bw: bw, log: log,
		client: &icecast.StatusClient{URL: u.String(), AdminPassword: sec.AdminPassword, Logger: cfg.Logger},
		http:   &http.Client{Timeout: cfg.PollInterval},
		kick:   make(chan struct{}, 1),
	}
}

// setPresence switches to a new session's presence (nil: none) and has it
// published at once, so that a new node is seen without waiting.
func (p *publisher) setPresence(pr *coordination.Presence) {
	p.mu.Lock()
	p.presence, p.published = pr, nil
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run polls every PollInterval until ctx ends.
func (p *publisher) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.PollInterval)
	defer t.Stop()
	for {
		p.publish(ctx, p.poll(ctx))
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-p.kick:
		}
	}
}

// poll measures the node's status.
func (p *publisher) poll(ctx context.Context) *autoradio.NodeStatus {
	r := p.state.role(p.cfg.Name)
	st := &autoradio.NodeStatus{
		Name:              p.cfg.Name,
		IPs:               p.cfg.IPs,
		IcecastPort:       p.cfg.IcecastPort,
		IsMaster:          r.isMaster,
		Mounts:            []autoradio.MountStatus{},
		MaxListeners:      p.cfg.MaxListeners,
		BandwidthLimitBps: p.cfg.BandwidthLimit,
	}
	if rate, err := p.bw.Sample(time.Now()); err == nil {
		st.BandwidthBps = roundSignificant(rate, 2)
	}
	if p.icecast.Up() {
		p.client.ExcludeRelays = r.isMaster
		if is := p.readIcecast(ctx); is != nil {
			st.IcecastOK = true
			st.Mounts = is.MountStatuses(p.state.mountNames())
			p.addProxied(ctx, st.Mounts)
			for _, m := range st.Mounts {
				st.Listeners += m.Listeners
			}
		}
	}
	p.current.Store(st)
	return st
}

// readIcecast reads the local Icecast's status; nil when Icecast does not
// answer. An answer that does not parse does not make a working Icecast
// down (it answered): the last status that could be read stands in for
// it, and the failure is counted and logged at warn, at most once every
// unreadableWarnEvery.
func (p *publisher) readIcecast(ctx context.Context) *icecast.Status {
	is, err := p.client.Fetch(ctx)
	now := time.Now()
	switch {
	case err == nil:
		if !p.unreadableSince.IsZero() {
			p.log.Info("Icecast status readable again", "after", now.Sub(p.unreadableSince).Round(time.Second))
			p.unreadableSince = time.Time{}
		}
		p.icecast.checkApplied(is.ConfigID(), now)
		p.lastGood = is
		return is
	case errors.Is(err, icecast.ErrUnreadableStatus):
		p.unreadable.Add(1)
		if p.unreadableSince.IsZero() {
			p.unreadableSince = now
		}
		if now.Sub(p.unreadableWarn) >= unreadableWarnEvery {
			p.unreadableWarn = now
			p.log.Warn("Icecast status unreadable, keeping the last readable one",
				"since", p.unreadableSince.Format(time.RFC3339), "err", err)
		}
		if p.lastGood == nil {
			return &icecast.Status{}
		}
		return p.lastGood
	default:
		p.log.Debug("reading Icecast status", "err", err)
		return nil
	}
}

// addProxied counts the front-end's proxied listeners. Without an answer
// from it, Icecast's counts stand: the front-end may be down, or not
// proxying.
func (p *publisher) addProxied(ctx context.Context, mounts []autoradio.MountStatus) {
	if p.cfg.FrontendURL == "" {
		return
	}
	ps, err := fetchProxied(ctx, p.http, p.cfg.FrontendURL)
	if err != nil {
		p.log.Debug("reading the front-end's proxied listeners", "err", err)
		return
	}
	addProxied(mounts, ps)
}

// publish writes st if it differs from what was last written or the last
// write is older than Heartbeat.
func (p *publisher) publish(ctx context.Context, st *autoradio.NodeStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.presence == nil {
		return
	}
	if p.published != nil && reflect.DeepEqual(p.published, st) && time.Since(p.at) < p.cfg.Heartbeat {
		return
	}
	out := *st
	out.UpdatedAt = time.Now().UTC()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.SessionTTL)
	defer cancel()
	if _, err := p.presence.Update(ctx, &out); err != nil {
		p.log.Warn("publishing node status", "err", err)
		return
	}
	p.published, p.at = st, time.Now()
}

// Current is the last status measured.
func (p *publisher) Current() *autoradio.NodeStatus { return p.current.Load() }

// roundSignificant keeps the first digits of a measurement, so that small
// fluctuations do not cause a status write every second.
func roundSignificant(v float64, digits int) float64 {
	if v <= 0 {
		return 0
	}
	scale := math.Pow(10, float64(digits)-math.Ceil(math.Log10(v)))
	return math.Round(v*scale) / scale
}
