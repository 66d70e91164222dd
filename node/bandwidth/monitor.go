package bandwidth

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config of a Monitor. Zero fields take the defaults in their comments.
type Config struct {
	// ProcPath is where procfs is mounted. Default: "/proc".
	ProcPath string
	// Interface to measure. Default: the interface of the default route
	// and every interface that carries one of IPs, added up: what the
	// node sends to listeners goes out through one of them, whichever it
	// is (lo, when the node's addresses are loopback ones).
	Interface string
	// IPs are the node's addresses (radiod --ip), when Interface is not
	// given.
	IPs []string
	// Addrs lists the machine's interfaces and their addresses. Default:
	// SystemAddrs.
	Addrs func() ([]Addrs, error)
	// Window is the span the rate is averaged over. Default: 5s.
	Window time.Duration
	// Interval between samples taken by Run. Default: 1s.
	Interval time.Duration
	// Logger receives sampling errors from Run. Default: discard.
	Logger *slog.Logger
}

// Monitor computes the outgoing bandwidth of a set of interfaces, in bits
// per second, from samples of their transmit byte counters added up. Sample may be called by an
// outside poller, or Run takes samples itself; Rate may be called from
// any goroutine.
type Monitor struct {
	cfg    Config
	ifaces []string
	log    *slog.Logger

	mu      sync.Mutex
	samples []sample // within the window, oldest first
	raw     uint64   // last sum of the counters read
	total   uint64   // bytes sent since the first sample, across resets
}

type sample struct {
	at    time.Time
	total uint64
}

// New resolves the interface and checks that /proc/net/dev has it.
func New(cfg Config) (*Monitor, error) {
	if cfg.ProcPath == "" {
		cfg.ProcPath = "/proc"
	}
	if cfg.Window <= 0 {
		cfg.Window = 5 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ifaces, err := interfaces(cfg)
	if err != nil {
		return nil, err
	}
	m := &Monitor{cfg: cfg, ifaces: ifaces, log: cfg.Logger.With(slog.String("component", "bandwidth"))}
	if _, err := m.read(); err != nil {
		return nil, err
	}
	return m, nil
}

// interfaces are the interfaces to measure: the one configured, else the
// default route's and those carrying the node's addresses.
func interfaces(cfg Config) ([]string, error) {
	if cfg.Interface != "" {
		return []string{cfg.Interface}, nil
	}
	var out []string
	def, derr := DefaultInterface(cfg.ProcPath)
	if derr == nil {
		out = append(out, def)
	}
	if len(cfg.IPs) > 0 {
		list := cfg.Addrs
		if list == nil {
			list = SystemAddrs
		}
		all, err := list()
		if err != nil {
			return nil, err
		}
		for _, name := range Carrying(cfg.IPs, all) {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bandwidth: no interface given, none carries %v, and none found: %w", cfg.IPs, derr)
	}
	return out, nil
}

// Interface is the name of the measured interfaces, comma-separated.
func (m *Monitor) Interface() string { return strings.Join(m.ifaces, ",") }

// read returns the sum of the interfaces' transmit byte counters.
func (m *Monitor) read() (uint64, error) {
	all, err := ReadNetDev(m.cfg.ProcPath)
	if err != nil {
		return 0, err
	}
	var sum uint64
	for _, name := range m.ifaces {
		c, ok := all[name]
		if !ok {
			return 0, fmt.Errorf("bandwidth: interface %q not found in %s/net/dev", name, m.cfg.ProcPath)
		}
		sum += c.TransmitBytes
	}
	return sum, nil
}

// Sample reads the counter, records it as taken at now and returns the
// rate over the window. When the read fails the window is emptied: the
// rate is 0 until two samples succeed again.
func (m *Monitor) Sample(now time.Time) (float64, error) {
	raw, err := m.read()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.samples = m.samples[:0]
		return 0, err
	}
	m.add(now, raw)
	return m.rate(), nil
}

// add records a counter value. A counter lower than the last one means an
// interface was recreated (or a 32-bit counter wrapped): the bytes since
// are counted from zero, which underestimates one interval at worst
// instead of inventing a spike.
func (m *Monitor) add(now time.Time, raw uint64) {
	if len(m.samples) > 0 {
		if raw >= m.raw {
			m.total += raw - m.raw
		} else {
			m.total += raw
		}
	}
	m.raw = raw
	m.samples = append(m.samples, sample{at: now, total: m.total})
	// Keep the newest sample at or before the window's start, so that the
	// rate always spans the whole window once it is full.
	start := now.Add(-m.cfg.Window)
	drop := 0
	for drop+1 < len(m.samples) && !m.samples[drop+1].at.After(start) {
		drop++
	}
	m.samples = append(m.samples[:0], m.samples[drop:]...)
}

// Rate is the outgoing bandwidth in bits per second over the window
// ending at the last sample; 0 before two samples.
func (m *Monitor) Rate() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rate()
}

func (m *Monitor) rate() float64 {
	if len(m.samples) < 2 {
		return 0
	}
	first, last := m.samples[0], m.samples[len(m.samples)-1]
	secs := last.at.Sub(first.at).Seconds()
	if secs <= 0 {
		return 0
	}
	return float64(last.total-first.total) * 8 / secs
}

// Run samples every Interval until ctx ends; it returns nil then. Errors
// are logged when they change, not every interval.
func (m *Monitor) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	var lastErr string
	for {
		_, err := m.Sample(time.Now())
		if msg := errString(err); msg != lastErr {
			if err != nil {
				m.log.Warn("cannot sample bandwidth", slog.Any("error", err))
			} else {
				m.log.Info("sampling bandwidth again", slog.String("interface", m.Interface()))
			}
			lastErr = msg
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
