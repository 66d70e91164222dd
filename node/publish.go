package node

import (
	"context"
	"log/slog"
	"math"
	"net/http"
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
	icecast icecastStatus
	bw      *bandwidth.Monitor
	http    *http.Client // for the front-end
	log     *slog.Logger
	kick    chan struct{}
	// relaysFrom lists the Icecasts the relays are connected to; set
	// before Run.
	relaysFrom func() []string

	mu        sync.Mutex
	presence  *coordination.Presence
	published *autoradio.NodeStatus // last written, UpdatedAt zeroed
	at        time.Time

	current atomic.Pointer[autoradio.NodeStatus]
}

// icecastStatus is what the publisher reads of the local Icecast.
type icecastStatus interface {
	// Status is the last status read; nil when Icecast is down.
	Status() *icecast.Status
	// Applied reports whether Icecast runs a config that has mount in
	// the given role.
	Applied(mount string, master bool) bool
}

func newPublisher(cfg *Config, st *state, ic icecastStatus, bw *bandwidth.Monitor, log *slog.Logger) *publisher {
	return &publisher{
		cfg: cfg, state: st, icecast: ic, bw: bw, log: log,
		http: &http.Client{Timeout: cfg.PollInterval},
		kick: make(chan struct{}, 1),
	}
}

// setPresence switches to a new session's presence (nil: none) and has it
// published at once, so that a new node is seen without waiting.
func (p *publisher) setPresence(pr *coordination.Presence) {
	p.mu.Lock()
	p.presence, p.published = pr, nil
	p.mu.Unlock()
	p.refresh()
}

// refresh has the status measured and published now rather than at the
// next poll.
func (p *publisher) refresh() {
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
		Draining:          p.state.draining(),
		StepAside:         p.state.steppingAside(),
	}
	if p.relaysFrom != nil {
		st.RelaysFrom = p.relaysFrom()
	}
	if rate, err := p.bw.Sample(time.Now()); err == nil {
		st.BandwidthBps = roundSignificant(rate, 2)
	}
	if is := p.icecast.Status(); is != nil {
		st.IcecastOK = true
		st.Mounts = is.MountStatuses(p.state.mountNames())
		for i := range st.Mounts {
			st.Mounts[i].Configured = p.icecast.Applied(st.Mounts[i].Name, r.isMaster)
		}
		p.addProxied(ctx, st.Mounts)
		for _, m := range st.Mounts {
			st.Listeners += m.Listeners
		}
	}
	p.current.Store(st)
	return st
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
