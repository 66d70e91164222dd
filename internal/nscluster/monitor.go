package nscluster

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// monitorInterval is how often the Monitor samples the hosts.
const monitorInterval = 200 * time.Millisecond

// Monitor samples, several times a second, which hosts accept sources for
// a mount (their Icecast runs with the master's config for it) and whether
// the source is live on one of them, as seen from the clients namespace.
type Monitor struct {
	c      *Cluster
	mount  string
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	samples []sample
}

type sample struct {
	at        time.Time
	accepting []string
	live      bool
}

// Monitor starts sampling mount until Stop (or the end of ctx).
func (c *Cluster) Monitor(ctx context.Context, mount string) *Monitor {
	ctx, cancel := context.WithCancel(ctx)
	m := &Monitor{c: c, mount: mount, cancel: cancel, done: make(chan struct{})}
	go m.run(ctx)
	return m
}

func (m *Monitor) run(ctx context.Context) {
	defer close(m.done)
	tick := time.NewTicker(monitorInterval)
	defer tick.Stop()
	for {
		s := m.sample(ctx)
		m.mu.Lock()
		m.samples = append(m.samples, s)
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (m *Monitor) sample(ctx context.Context) sample {
	s := sample{at: time.Now()}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range m.c.Hosts {
		if !h.IcecastRunning() || !h.AcceptsSources(m.mount) {
			continue
		}
		s.accepting = append(s.accepting, h.Name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if h.HasSource(ctx, m.mount) {
				mu.Lock()
				s.live = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return s
}

// Stop ends the sampling.
func (m *Monitor) Stop() {
	m.cancel()
	<-m.done
}

func (m *Monitor) snapshot() []sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sample(nil), m.samples...)
}

// SplitBrain is the longest time during which two or more hosts accepted
// sources for the mount at once, and those hosts.
func (m *Monitor) SplitBrain() (time.Duration, []string) {
	var longest time.Duration
	var who []string
	var start time.Time
	for _, s := range m.snapshot() {
		if len(s.accepting) < 2 {
			start = time.Time{}
			continue
		}
		if start.IsZero() {
			start = s.at
		}
		if d := s.at.Sub(start) + monitorInterval; d > longest {
			longest, who = d, s.accepting
		}
	}
	return longest, who
}

// LiveAgain is how long after since the source was live again, once it
// had been lost: 0 when it never went away, and false when it had not
// come back at the last sample.
func (m *Monitor) LiveAgain(since time.Time) (time.Duration, bool) {
	lost := false
	for _, s := range m.snapshot() {
		if s.at.Before(since) {
			continue
		}
		switch {
		case !s.live:
			lost = true
		case lost:
			return s.at.Sub(since), true
		}
	}
	return 0, !lost
}

// Outage is the total time without a live source after since.
func (m *Monitor) Outage(since time.Time) time.Duration {
	var total time.Duration
	for _, s := range m.snapshot() {
		if !s.at.Before(since) && !s.live {
			total += monitorInterval
		}
	}
	return total
}

// LastSplit is the time of the last sample in which two or more hosts
// accepted sources (zero if none did).
func (m *Monitor) LastSplit() time.Time {
	samples := m.snapshot()
	for i := len(samples) - 1; i >= 0; i-- {
		if len(samples[i].accepting) >= 2 {
			return samples[i].at
		}
	}
	return time.Time{}
}

// Summary describes the samples, for logs.
func (m *Monitor) Summary() string {
	samples := m.snapshot()
	live := 0
	for _, s := range samples {
		if s.live {
			live++
		}
	}
	last := "none"
	if n := len(samples); n > 0 {
		last = fmt.Sprintf("accepting %v, live %v", samples[n-1].accepting, samples[n-1].live)
	}
	return fmt.Sprintf("%d samples, %d live; last: %s", len(samples), live, last)
}
